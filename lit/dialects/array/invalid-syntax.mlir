// Syntax errors in the custom forms of `array` ops, located at the token.
// RUN: gradc-opt %s --split-input-file --parsing-diagnostics | filecheck %s

func.func @predicate(%x: tensor<4xf32>) -> tensor<4xi1> {
  // CHECK: invalid-syntax.mlir:[[# @LINE + 1]]:22: error: unknown predicate 'lte', expected one of lt, le, gt, ge, eq, ne
  %0 = array.compare lte %x, %x : tensor<4xf32>
  func.return %0 : tensor<4xi1>
}

// -----

func.func @slice_range(%x: tensor<5xf32>) -> tensor<4xf32> {
  // CHECK: invalid-syntax.mlir:[[# @LINE + 1]]:27: error: Expected ':'
  %0 = array.slice %x [0:4] : tensor<5xf32> -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}

// -----

func.func @constant_literal() -> tensor<2xf32> {
  // CHECK: invalid-syntax.mlir:[[# @LINE + 1]]:{{[0-9]+}}: error: array.constant expects a dense<...> : tensor<...>
  %0 = array.constant [1.0, 2.0] : tensor<2xf32>
  func.return %0 : tensor<2xf32>
}

// -----

func.func @operand_types(%x: tensor<4xf32>, %y: tensor<3xf32>) -> tensor<4xf32> {
  // CHECK: invalid-syntax.mlir:[[# @LINE + 1]]:22: error: operand is used with type tensor<4xf32>, but has been previously used or defined with type tensor<3xf32>
  %0 = array.add %x, %y : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}

// -----

func.func @unknown_op(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: invalid-syntax.mlir:[[# @LINE + 1]]:{{[0-9]+}}: error: Operation array.softmax is not registered
  %0 = array.softmax %x : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}

// -----

func.func @compare_scalar(%x: f32) {
  // CHECK: invalid-syntax.mlir:[[# @LINE + 1]]:34: error: array.compare expects a tensor type, got f32
  %0 = array.compare lt %x, %x : f32
  func.return
}
