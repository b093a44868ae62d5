// plan-memory: buffers whose lifetimes do not overlap share an offset, ones
// live at the same point do not, and an elementwise nest writes in place over
// an input that dies there; a transposing nest does not.
// RUN: gradc-opt %s -p plan-memory | filecheck %s

// CHECK-LABEL: func.func @chain
// CHECK-SAME:    loops.workspace_bytes = 128 : i64, loops.buffer_bytes = 256 : i64, loops.live_bytes = 128 : i64
// t0 is live from nest 0 to nest 1, where the transpose t1 is born: no reuse.
// CHECK:         %t0 = loops.alloc "workspace" at 0 : memref<4x4xf32>
// CHECK:         %t1 = loops.alloc "workspace" at 64 : memref<4x4xf32>
// t2 = exp(t1) elementwise where t1 dies: in place.
// CHECK:         %t2 = loops.alloc "workspace" at 64 : memref<4x4xf32>
// t3 is a transpose of t2 (no in place) born after t0 died: t0's bytes.
// CHECK:         %t3 = loops.alloc "workspace" at 0 : memref<4x4xf32>
func.func @chain(%x: memref<4x4xf32>, %out: memref<4x4xf32>) attributes {loops.num_inputs = 1 : i64} {
  %two = arith.constant 2.0 : f32
  %t0 = loops.alloc "workspace" : memref<4x4xf32>
  loops.for %i = 0 to 4 step 1 {
    loops.for %j = 0 to 4 step 1 {
      %v = loops.load %x[%i, %j] : memref<4x4xf32>
      %w = arith.mulf %v, %two : f32
      loops.store %w, %t0[%i, %j] : memref<4x4xf32>
    }
  }
  %t1 = loops.alloc "workspace" : memref<4x4xf32>
  loops.for %i = 0 to 4 step 1 {
    loops.for %j = 0 to 4 step 1 {
      %v = loops.load %t0[%j, %i] : memref<4x4xf32>
      loops.store %v, %t1[%i, %j] : memref<4x4xf32>
    }
  }
  %t2 = loops.alloc "workspace" : memref<4x4xf32>
  loops.for %i = 0 to 4 step 1 {
    loops.for %j = 0 to 4 step 1 {
      %v = loops.load %t1[%i, %j] : memref<4x4xf32>
      %e = math.exp %v : f32
      loops.store %e, %t2[%i, %j] : memref<4x4xf32>
    }
  }
  %t3 = loops.alloc "workspace" : memref<4x4xf32>
  loops.for %i = 0 to 4 step 1 {
    loops.for %j = 0 to 4 step 1 {
      %v = loops.load %t2[%j, %i] : memref<4x4xf32>
      loops.store %v, %t3[%i, %j] : memref<4x4xf32>
    }
  }
  loops.for %i = 0 to 4 step 1 {
    loops.for %j = 0 to 4 step 1 {
      %v = loops.load %t3[%i, %j] : memref<4x4xf32>
      %w = arith.addf %v, %two : f32
      loops.store %w, %out[%i, %j] : memref<4x4xf32>
    }
  }
  func.return
}

// Near misses of in place: the store ignores the inner loop (each element
// written four times, so later iterations would read the new value), and a
// broadcast reads one element for a whole row. Views through loops.reshape
// share their buffer's lifetime and offset.
// CHECK-LABEL: func.func @near_misses
// (%d, the largest, is placed first; each buffer differs from the one it is
// computed from.)
// CHECK:         %a = loops.alloc "workspace" at 0 : memref<4xf32>
// CHECK:         %b = loops.alloc "workspace" at 64 : memref<4xf32>
// CHECK:         %c = loops.alloc "workspace" at 128 : memref<2x2xf32>
// CHECK:         %d = loops.alloc "workspace" at 0 : memref<4x4xf32>
func.func @near_misses(%x: memref<4xf32>, %out: memref<4x4xf32>) attributes {loops.num_inputs = 1 : i64} {
  %a = loops.alloc "workspace" : memref<4xf32>
  loops.for %i = 0 to 4 step 1 {
    %v = loops.load %x[%i] : memref<4xf32>
    loops.store %v, %a[%i] : memref<4xf32>
  }
  %b = loops.alloc "workspace" : memref<4xf32>
  loops.for %i = 0 to 4 step 1 {
    loops.for %j = 0 to 4 step 1 {
      %v = loops.load %a[%i] : memref<4xf32>
      %w = arith.addf %v, %v : f32
      loops.store %w, %b[%i] : memref<4xf32>
    }
  }
  %c = loops.alloc "workspace" : memref<2x2xf32>
  %bv = loops.reshape %b : memref<4xf32> -> memref<2x2xf32>
  loops.for %i = 0 to 2 step 1 {
    loops.for %j = 0 to 2 step 1 {
      %v = loops.load %bv[%i, %j] : memref<2x2xf32>
      %w = math.exp %v : f32
      loops.store %w, %c[%j, %i] : memref<2x2xf32>
    }
  }
  %cv = loops.reshape %c : memref<2x2xf32> -> memref<4xf32>
  %d = loops.alloc "workspace" : memref<4x4xf32>
  loops.for %i = 0 to 4 step 1 {
    loops.for %j = 0 to 4 step 1 {
      %v = loops.load %cv[%i] : memref<4xf32>
      loops.store %v, %d[%i, %j] : memref<4x4xf32>
    }
  }
  loops.for %i = 0 to 4 step 1 {
    loops.for %j = 0 to 4 step 1 {
      %v = loops.load %d[%i, %j] : memref<4x4xf32>
      loops.store %v, %out[%i, %j] : memref<4x4xf32>
    }
  }
  func.return
}
