// What custom derivative rules cannot give fails the pass, located at the
// custom op: forward mode through a custom_vjp (it has no forward rule), and
// a derivative reaching an operand outside `diff` (a closed-over value).
// RUN: gradc-opt %s --split-input-file --verify-diagnostics -p differentiate | filecheck %s

func.func private @ident(%x: tensor<3xf64>) -> tensor<3xf64> {
  func.return %x : tensor<3xf64>
}
func.func private @ident_fwd(%x: tensor<3xf64>) -> (tensor<3xf64>) {
  func.return %x : tensor<3xf64>
}
func.func private @ident_bwd(%x: tensor<3xf64>, %g: tensor<3xf64>) -> tensor<3xf64> {
  func.return %g : tensor<3xf64>
}
func.func private @f(%x: tensor<3xf64>) -> tensor<3xf64> {
// CHECK: custom-errors.mlir:[[# @LINE + 1]]:3: error: pass 'differentiate' failed: cannot apply forward-mode autodiff (jvp) to the custom_vjp function @ident: it only has a reverse-mode rule (forward mode is also what jacfwd and hessian use); define its derivative with gradc.custom_jvp instead
  %y = autodiff.custom_vjp @ident(%x) fwd @ident_fwd bwd @ident_bwd diff [0] : (tensor<3xf64>) -> (tensor<3xf64>)
  func.return %y : tensor<3xf64>
}
func.func @main(%x: tensor<3xf64>, %v: tensor<3xf64>) -> tensor<3xf64> {
  %y, %t = autodiff.jvp @f(%x) tangents(%v) wrt [0] : (tensor<3xf64>), (tensor<3xf64>) -> (tensor<3xf64>), (tensor<3xf64>)
  func.return %t : tensor<3xf64>
}

// -----

func.func private @scale(%x: tensor<3xf64>, %w: tensor<3xf64>) -> tensor<3xf64> {
  %y = array.mul %x, %w : tensor<3xf64>
  func.return %y : tensor<3xf64>
}
func.func private @scale_jvp(%x: tensor<3xf64>, %w: tensor<3xf64>, %dx: tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>) {
  %y = array.mul %x, %w : tensor<3xf64>
  %t = array.mul %dx, %w : tensor<3xf64>
  func.return %y, %t : tensor<3xf64>, tensor<3xf64>
}
func.func private @f(%x: tensor<3xf64>, %w: tensor<3xf64>) -> tensor<f64> {
// CHECK: custom-errors.mlir:[[# @LINE + 1]]:3: error: pass 'differentiate' failed: custom_jvp function @scale closes over a value that is being differentiated (or gets one through nondiff_argnums); its rule only gives derivatives with respect to its explicit arguments: pass that value as an argument
  %y = autodiff.custom_jvp @scale(%x, %w) jvp @scale_jvp diff [0] : (tensor<3xf64>, tensor<3xf64>) -> (tensor<3xf64>)
  %s = array.reduce_sum %y axes [0] : tensor<3xf64> -> tensor<f64>
  func.return %s : tensor<f64>
}
func.func @main(%x: tensor<3xf64>, %w: tensor<3xf64>) -> tensor<3xf64> {
  %s, %g = autodiff.grad @f(%x, %w) wrt [1] : (tensor<3xf64>, tensor<3xf64>) -> (tensor<f64>), (tensor<3xf64>)
  func.return %g : tensor<3xf64>
}
