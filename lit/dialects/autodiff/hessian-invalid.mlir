// Verifier errors of autodiff.hessian's mode, located at the op.
// RUN: gradc-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func private @g(%x: tensor<3xf64>) -> tensor<f64> {
  %s = array.reduce_sum %x axes [0] : tensor<3xf64> -> tensor<f64>
  func.return %s : tensor<f64>
}
func.func @main(%x: tensor<3xf64>) -> tensor<3x3xf64> {
  // CHECK: hessian-invalid.mlir:[[# @LINE + 1]]:3: error: autodiff.hessian @g: mode must be one of fwd-over-rev, rev-over-rev, rev-over-fwd, edge-pushing, auto, got 'fwd-over-fwd'
  %h = autodiff.hessian @g(%x) wrt [0] mode "fwd-over-fwd" : (tensor<3xf64>) -> (tensor<3x3xf64>)
  func.return %h : tensor<3x3xf64>
}
