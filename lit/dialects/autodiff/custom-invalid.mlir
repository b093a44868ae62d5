// Verifier errors of autodiff.custom_jvp / custom_vjp, each located at the op.
// RUN: gradc-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func private @f(%x: tensor<3xf64>) -> tensor<3xf64> {
  func.return %x : tensor<3xf64>
}
func.func private @f_jvp(%x: tensor<3xf64>, %dx: tensor<3xf32>) -> (tensor<3xf64>, tensor<3xf64>) {
  func.return %x, %x : tensor<3xf64>, tensor<3xf64>
}
func.func @main(%x: tensor<3xf64>) -> tensor<3xf64> {
  // CHECK: custom-invalid.mlir:[[# @LINE + 1]]:3: error: autodiff.custom_jvp @f: @f_jvp must have type (tensor<3xf64>, tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>), got (tensor<3xf64>, tensor<3xf32>) -> (tensor<3xf64>, tensor<3xf64>)
  %y = autodiff.custom_jvp @f(%x) jvp @f_jvp diff [0] : (tensor<3xf64>) -> (tensor<3xf64>)
  func.return %y : tensor<3xf64>
}

// -----

func.func private @f(%x: tensor<3xf64>) -> tensor<3xf64> {
  func.return %x : tensor<3xf64>
}
func.func private @f_fwd(%x: tensor<3xf64>) -> (tensor<3xf64>, tensor<2xf64>) {
  %r = array.slice %x [0:2:1] : tensor<3xf64> -> tensor<2xf64>
  func.return %x, %r : tensor<3xf64>, tensor<2xf64>
}
func.func private @f_bwd(%x: tensor<3xf64>, %g: tensor<3xf64>) -> tensor<3xf64> {
  func.return %g : tensor<3xf64>
}
func.func @main(%x: tensor<3xf64>) -> tensor<3xf64> {
  // CHECK: custom-invalid.mlir:[[# @LINE + 1]]:3: error: autodiff.custom_vjp @f: @f_bwd must have type (tensor<3xf64>, tensor<2xf64>, tensor<3xf64>) -> (tensor<3xf64>), got (tensor<3xf64>, tensor<3xf64>) -> (tensor<3xf64>)
  %y = autodiff.custom_vjp @f(%x) fwd @f_fwd bwd @f_bwd diff [0] : (tensor<3xf64>) -> (tensor<3xf64>)
  func.return %y : tensor<3xf64>
}

// -----

func.func private @f(%x: tensor<3xf64>) -> tensor<3xf64> {
  func.return %x : tensor<3xf64>
}
func.func private @f_jvp(%x: tensor<3xf64>, %dx: tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>) {
  func.return %x, %x : tensor<3xf64>, tensor<3xf64>
}
func.func @main(%x: tensor<3xf64>) -> tensor<3xf64> {
  // CHECK: custom-invalid.mlir:[[# @LINE + 1]]:3: error: autodiff.custom_jvp @f: diff must be sorted, unique operand positions, got [1]
  %y = autodiff.custom_jvp @f(%x) jvp @f_jvp diff [1] : (tensor<3xf64>) -> (tensor<3xf64>)
  func.return %y : tensor<3xf64>
}
