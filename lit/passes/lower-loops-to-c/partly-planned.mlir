// A function whose workspace buffers are only partly planned is an error
// (lower-loops-to-c would otherwise mix planned and consecutive offsets).
// RUN: not gradc-opt %s -p lower-loops-to-c 2>&1 | filecheck %s

// CHECK: error: pass 'lower-loops-to-c' failed: @f: either every workspace buffer has a planned offset or none has
func.func @f(%x: memref<4xf32>, %out: memref<4xf32>) attributes {loops.num_inputs = 1 : i64} {
  %a = loops.alloc "workspace" at 0 : memref<4xf32>
  %b0 = loops.alloc "stack" : memref<4xf32>
  %b = loops.alloc "workspace" : memref<4xf32>
  func.return
}

