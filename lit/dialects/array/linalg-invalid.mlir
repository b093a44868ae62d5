// Verifier errors of the linear-algebra ops, each located at the op.
// RUN: gradc-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @not_square(%a: tensor<2x3xf64>) -> tensor<2x3xf64> {
  // CHECK: linalg-invalid.mlir:[[# @LINE + 1]]:3: error: array.cholesky: expected [..., n, n] matrices, got tensor<2x3xf64>
  %0 = array.cholesky %a : tensor<2x3xf64> -> tensor<2x3xf64>
  func.return %0 : tensor<2x3xf64>
}

// -----

func.func @rhs_rows(%a: tensor<3x3xf32>, %b: tensor<4x2xf32>) -> tensor<4x2xf32> {
  // CHECK: linalg-invalid.mlir:[[# @LINE + 1]]:3: error: array.solve: right-hand side tensor<4x2xf32> does not fit tensor<3x3xf32>
  %0 = array.solve %a, %b : tensor<3x3xf32>, tensor<4x2xf32> -> tensor<4x2xf32>
  func.return %0 : tensor<4x2xf32>
}

// -----

func.func @mixed_types(%a: tensor<3x3xf32>, %b: tensor<3x2xf64>) -> tensor<3x2xf64> {
  // CHECK: linalg-invalid.mlir:[[# @LINE + 1]]:3: error: array.triangular_solve: element types differ
  %0 = array.triangular_solve %a, %b lower : tensor<3x3xf32>, tensor<3x2xf64> -> tensor<3x2xf64>
  func.return %0 : tensor<3x2xf64>
}

// -----

func.func @slogdet_shape(%a: tensor<3x3xf64>) -> tensor<3xf64> {
  // CHECK: linalg-invalid.mlir:[[# @LINE + 1]]:3: error: array.slogdet: result type must be tensor<2xf64>, got tensor<3xf64>
  %0 = array.slogdet %a : tensor<3x3xf64> -> tensor<3xf64>
  func.return %0 : tensor<3xf64>
}
