// Verifier errors of autodiff.vmap, each located at the op.
// RUN: gradc-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func private @f(%x: tensor<3xf64>, %c: tensor<f64>) -> tensor<3xf64> {
  func.return %x : tensor<3xf64>
}
func.func @main(%xs: tensor<4x3xf64>, %c: tensor<f64>) -> tensor<5x3xf64> {
  // CHECK: vmap-invalid.mlir:[[# @LINE + 1]]:3: error: autodiff.vmap @f: arguments (tensor<4x3xf64>, tensor<f64>) do not match the function's with a leading 5 on the batched ones (tensor<5x3xf64>, tensor<f64>)
  %y = autodiff.vmap @f(%xs, %c) batched [0] size 5 : (tensor<4x3xf64>, tensor<f64>) -> (tensor<5x3xf64>)
  func.return %y : tensor<5x3xf64>
}

// -----

func.func private @f(%x: tensor<3xf64>, %c: tensor<f64>) -> tensor<3xf64> {
  func.return %x : tensor<3xf64>
}
func.func @main(%xs: tensor<4x3xf64>, %c: tensor<f64>) -> tensor<4x3xf64> {
  // CHECK: vmap-invalid.mlir:[[# @LINE + 1]]:3: error: autodiff.vmap @f: batched must be sorted, unique argument positions in [0, 2), got [2]
  %y = autodiff.vmap @f(%xs, %c) batched [2] size 4 : (tensor<4x3xf64>, tensor<f64>) -> (tensor<4x3xf64>)
  func.return %y : tensor<4x3xf64>
}

// -----

func.func private @f(%x: tensor<3xf64>, %c: tensor<f64>) -> tensor<3xf64> {
  func.return %x : tensor<3xf64>
}
func.func @main(%xs: tensor<4x3xf64>, %c: tensor<f64>) -> tensor<3xf64> {
  // CHECK: vmap-invalid.mlir:[[# @LINE + 1]]:3: error: autodiff.vmap @f: results must be (tensor<4x3xf64>), got (tensor<3xf64>)
  %y = autodiff.vmap @f(%xs, %c) batched [0] size 4 : (tensor<4x3xf64>, tensor<f64>) -> (tensor<3xf64>)
  func.return %y : tensor<3xf64>
}
