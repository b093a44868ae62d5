// plan-memory: when several buffers die in the nest where B is born and each
// could take B in place, B takes the first in program order; a buffer read
// after B's store in that nest is no candidate. (The candidates are looked up
// by nest, block, indices and shape, not tried pair by pair.)
// RUN: gradc-opt %s -p plan-memory | filecheck %s

// a0, a1 die in the nest where b is born: b is written over a0 (not a1), c is
// stored before b is read, so it gets a1's bytes, free again by then.
// CHECK-LABEL: func.func @candidates
// CHECK-SAME:    loops.workspace_bytes = 128 : i64, loops.buffer_bytes = 256 : i64, loops.live_bytes = 192 : i64
// CHECK:         %a0 = loops.alloc "workspace" at 0 : memref<8xf64>
// CHECK:         %a1 = loops.alloc "workspace" at 64 : memref<8xf64>
// CHECK:         %b = loops.alloc "workspace" at 0 : memref<8xf64>
// CHECK:         %c = loops.alloc "workspace" at 64 : memref<8xf64>
func.func @candidates(%x: memref<8xf64>, %out: memref<8xf64>) attributes {loops.num_inputs = 1 : i64} {
  %a0 = loops.alloc "workspace" : memref<8xf64>
  loops.for %i = 0 to 8 step 1 {
    %v = loops.load %x[%i] : memref<8xf64>
    %w = arith.addf %v, %v : f64
    loops.store %w, %a0[%i] : memref<8xf64>
  }
  %a1 = loops.alloc "workspace" : memref<8xf64>
  loops.for %i = 0 to 8 step 1 {
    %v = loops.load %x[%i] : memref<8xf64>
    %w = math.exp %v : f64
    loops.store %w, %a1[%i] : memref<8xf64>
  }
  %b = loops.alloc "workspace" : memref<8xf64>
  loops.for %i = 0 to 8 step 1 {
    %u = loops.load %a0[%i] : memref<8xf64>
    %v = loops.load %a1[%i] : memref<8xf64>
    %w = arith.mulf %u, %v : f64
    loops.store %w, %b[%i] : memref<8xf64>
  }
  %c = loops.alloc "workspace" : memref<8xf64>
  loops.for %i = 0 to 8 step 1 {
    %v = loops.load %x[%i] : memref<8xf64>
    loops.store %v, %c[%i] : memref<8xf64>
    %u = loops.load %b[%i] : memref<8xf64>
    loops.store %u, %out[%i] : memref<8xf64>
  }
  loops.for %i = 0 to 8 step 1 {
    %u = loops.load %out[%i] : memref<8xf64>
    %v = loops.load %c[%i] : memref<8xf64>
    %w = arith.addf %u, %v : f64
    loops.store %w, %out[%i] : memref<8xf64>
  }
  func.return
}
