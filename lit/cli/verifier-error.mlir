// Without --verify-diagnostics, a verifier error ends the run: located
// message on stderr, exit status 1, nothing on stdout.
// RUN: not gradc-opt %s 2>&1 | filecheck %s
// RUN: not gradc-opt %s 2>/dev/null | filecheck %s --check-prefix=STDOUT --allow-empty

func.func @f(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = array.neg %x : tensor<2x3xf32>
  %1 = array.reduce_sum %0 axes [1, 1] : tensor<2x3xf32> -> tensor<2xf32>
  func.return %0 : tensor<2x3xf32>
}

// CHECK-NOT: Traceback
// CHECK:      verifier-error.mlir:8:3: error: array.reduce_sum: axes must be sorted, unique and in [0, 2), got [1, 1]
// CHECK-NEXT:   %1 = array.reduce_sum %0 axes [1, 1] : tensor<2x3xf32> -> tensor<2xf32>
// CHECK-NEXT:   ^
// STDOUT-NOT: builtin.module
