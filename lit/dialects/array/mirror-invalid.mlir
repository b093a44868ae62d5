// array.mirror takes [..., n, n] operands only.
// RUN: gradc-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @not_square(%x: tensor<2x3xf64>) -> tensor<2x3xf64> {
  // CHECK: mirror-invalid.mlir:[[# @LINE + 1]]:3: error: array.mirror: expected [..., n, n] matrices, got tensor<2x3xf64>
  %0 = array.mirror %x : tensor<2x3xf64>
  func.return %0 : tensor<2x3xf64>
}

// -----

func.func @vector(%x: tensor<3xf64>) -> tensor<3xf64> {
  // CHECK: mirror-invalid.mlir:[[# @LINE + 1]]:3: error: array.mirror: expected [..., n, n] matrices, got tensor<3xf64>
  %0 = array.mirror %x : tensor<3xf64>
  func.return %0 : tensor<3xf64>
}
