// Verifier errors of array.threefry2x32, located at the op.
// RUN: gradc-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @output(%k: tensor<3xi32>) -> tensor<3xi32> {
  // CHECK: threefry-invalid.mlir:[[# @LINE + 1]]:3: error: array.threefry2x32: output must be one of x0, x1, xor, got 'x2'
  %0 = array.threefry2x32 "x2" %k, %k, %k, %k : tensor<3xi32>
  func.return %0 : tensor<3xi32>
}

// -----

func.func @float_words(%k: tensor<3xf32>) -> tensor<3xf32> {
  // CHECK: threefry-invalid.mlir:[[# @LINE + 1]]:3: error: array.threefry2x32: k0 must be tensor<3xi32> (like x0), got tensor<3xf32>
  %0 = array.threefry2x32 "xor" %k, %k, %k, %k : tensor<3xf32>
  func.return %0 : tensor<3xf32>
}

// -----

func.func @i64_words(%k: tensor<2x2xi64>) -> tensor<2x2xi64> {
  // CHECK: threefry-invalid.mlir:[[# @LINE + 1]]:3: error: array.threefry2x32: k0 must be tensor<2x2xi32> (like x0), got tensor<2x2xi64>
  %0 = array.threefry2x32 "x0" %k, %k, %k, %k : tensor<2x2xi64>
  func.return %0 : tensor<2x2xi64>
}

// -----

func.func @mixed_shapes(%k: tensor<3xi32>, %x: tensor<4xi32>) -> tensor<4xi32> {
  // CHECK: threefry-invalid.mlir:[[# @LINE + 1]]:3: error: operand 'x0' at position 2 does not verify:
  %0 = "array.threefry2x32"(%k, %k, %x, %x) <{output = "x0"}> : (tensor<3xi32>, tensor<3xi32>, tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  func.return %0 : tensor<4xi32>
}
