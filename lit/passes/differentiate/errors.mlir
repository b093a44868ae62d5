// What differentiate cannot do fails the pass with a message naming the
// function and the op, located at the op.
// RUN: gradc-opt %s --split-input-file --verify-diagnostics -p differentiate | filecheck %s


// CHECK: errors.mlir:[[# @LINE + 2]]:3: error: pass 'differentiate' failed: @f: cannot differentiate 'arith.addf': it has no vjp rule
func.func private @f(%x: tensor<3xf64>) -> tensor<f64> {
  %0 = arith.addf %x, %x : tensor<3xf64>
  %1 = array.reduce_sum %0 axes [0] : tensor<3xf64> -> tensor<f64>
  func.return %1 : tensor<f64>
}
func.func @main(%x: tensor<3xf64>) -> tensor<3xf64> {
  %y, %g = autodiff.grad @f(%x) wrt [0] : (tensor<3xf64>) -> (tensor<f64>), (tensor<3xf64>)
  func.return %g : tensor<3xf64>
}

// -----

// CHECK: errors.mlir:[[# @LINE + 2]]:3: error: pass 'differentiate' failed: @f asks for a derivative of itself: recursion cannot be differentiated
func.func @f(%x: tensor<f64>) -> tensor<f64> {
  %y, %g = autodiff.grad @f(%x) wrt [0] : (tensor<f64>) -> (tensor<f64>), (tensor<f64>)
  func.return %g : tensor<f64>
}

// -----

// CHECK: errors.mlir:[[# @LINE + 3]]:3: error: pass 'differentiate' failed: @f: cannot inline the call to @ext in @f: it is not a function with a body in this module
func.func private @ext(%x: tensor<f64>) -> tensor<f64>
func.func @f(%x: tensor<f64>) -> tensor<f64> {
  %0 = func.call @ext(%x) : (tensor<f64>) -> tensor<f64>
  func.return %0 : tensor<f64>
}
func.func @main(%x: tensor<f64>, %t: tensor<f64>) -> tensor<f64> {
  %y, %g = autodiff.jvp @f(%x) tangents(%t) wrt [0] : (tensor<f64>), (tensor<f64>) -> (tensor<f64>), (tensor<f64>)
  func.return %g : tensor<f64>
}
