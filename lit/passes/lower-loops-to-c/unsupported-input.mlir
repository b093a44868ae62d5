// Array-level input has not been bufferized yet: the pass says which pass to
// run first, with exit status 1.
// RUN: not gradc-opt %s -p lower-loops-to-c 2>&1 | filecheck %s
// RUN: gradc-opt %s -p lower-array-to-loops,lower-loops-to-c | filecheck %s --check-prefix=FIXED

// CHECK-NOT: Traceback
// CHECK: error: pass 'lower-loops-to-c' failed: func.func @f has no 'loops.num_inputs' attribute; run lower-array-to-loops first
// FIXED: c.func @f(
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = array.neg %x : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
