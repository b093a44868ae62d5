// Custom derivative ops: under a request the rule is used instead of the
// primal's ops (forward mode inlines the jvp rule, reverse mode its
// transpose, or fwd then bwd for custom_vjp); what is left is a call of
// the primal, inlined like any other.
// RUN: gradc-opt %s -p differentiate | filecheck %s
// RUN: gradc-opt %s -p differentiate,array-simplify,canonicalize,cse,dce | filecheck %s --check-prefix=CLEAN

// softplus with the rule d/dx = 1 / (1 + exp(-x)), and a custom_vjp whose
// bwd scales the cotangent by 3 (the primal is the identity).
func.func private @softplus(%x: tensor<3xf64>) -> tensor<3xf64> {
  %e = array.exp %x : tensor<3xf64>
  %l = array.log1p %e : tensor<3xf64>
  func.return %l : tensor<3xf64>
}
func.func private @softplus_jvp(%x: tensor<3xf64>, %dx: tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>) {
  %y = autodiff.custom_jvp @softplus(%x) jvp @softplus_jvp diff [0] : (tensor<3xf64>) -> (tensor<3xf64>)
  %n = array.neg %x : tensor<3xf64>
  %e = array.exp %n : tensor<3xf64>
  %one = array.constant dense<1.0> : tensor<3xf64>
  %d = array.add %one, %e : tensor<3xf64>
  %t = array.div %dx, %d : tensor<3xf64>
  func.return %y, %t : tensor<3xf64>, tensor<3xf64>
}
func.func private @ident(%x: tensor<3xf64>) -> tensor<3xf64> {
  func.return %x : tensor<3xf64>
}
func.func private @ident_fwd(%x: tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>) {
  func.return %x, %x : tensor<3xf64>, tensor<3xf64>
}
func.func private @ident_bwd(%x: tensor<3xf64>, %r: tensor<3xf64>, %g: tensor<3xf64>) -> tensor<3xf64> {
  %three = array.constant dense<3.0> : tensor<3xf64>
  %s = array.mul %g, %three : tensor<3xf64>
  func.return %s : tensor<3xf64>
}
func.func private @loss(%x: tensor<3xf64>) -> tensor<f64> {
  %a = autodiff.custom_jvp @softplus(%x) jvp @softplus_jvp diff [0] : (tensor<3xf64>) -> (tensor<3xf64>)
  %b = autodiff.custom_vjp @ident(%a) fwd @ident_fwd bwd @ident_bwd diff [0] : (tensor<3xf64>) -> (tensor<3xf64>)
  %s = array.reduce_sum %b axes [0] : tensor<3xf64> -> tensor<f64>
  func.return %s : tensor<f64>
}

// CHECK-NOT:   func.func private
// CHECK-LABEL: func.func @main
// CHECK-NOT:     func.call
// CHECK-NOT:     autodiff.
// CHECK:         func.return
// CHECK-NOT:   func.func

// The gradient: 3 / (1 + exp(-x)); the tangent of softplus: v / (1 + exp(-x)).
// CLEAN-LABEL: func.func @main
// CLEAN-SAME:    (%[[X:.*]]: tensor<3xf64>, %[[V:.*]]: tensor<3xf64>)
// CLEAN-NEXT:    %[[THREE:.*]] = array.constant dense<3.000000e+00> : tensor<3xf64>
// CLEAN-NEXT:    %[[N:.*]] = array.neg %[[X]] : tensor<3xf64>
// CLEAN-NEXT:    %[[E:.*]] = array.exp %[[N]] : tensor<3xf64>
// CLEAN-NEXT:    %[[ONE:.*]] = array.constant dense<1.000000e+00> : tensor<3xf64>
// CLEAN-NEXT:    %[[D:.*]] = array.add %[[ONE]], %[[E]] : tensor<3xf64>
// CLEAN-NEXT:    %[[G:.*]] = array.div %[[THREE]], %[[D]] : tensor<3xf64>
// CLEAN-NEXT:    %[[T:.*]] = array.div %[[V]], %[[D]] : tensor<3xf64>
// CLEAN-NEXT:    func.return %[[G]], %[[T]] : tensor<3xf64>, tensor<3xf64>
func.func @main(%x: tensor<3xf64>, %v: tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>) {
  %y, %g = autodiff.grad @loss(%x) wrt [0] : (tensor<3xf64>) -> (tensor<f64>), (tensor<3xf64>)
  %p, %t = autodiff.jvp @softplus(%x) tangents(%v) wrt [0] : (tensor<3xf64>), (tensor<3xf64>) -> (tensor<3xf64>), (tensor<3xf64>)
  %a, %ta = autodiff.jvp @softplus_wrapped(%x) tangents(%v) wrt [0] : (tensor<3xf64>), (tensor<3xf64>) -> (tensor<3xf64>), (tensor<3xf64>)
  func.return %g, %ta : tensor<3xf64>, tensor<3xf64>
}
func.func private @softplus_wrapped(%x: tensor<3xf64>) -> tensor<3xf64> {
  %a = autodiff.custom_jvp @softplus(%x) jvp @softplus_jvp diff [0] : (tensor<3xf64>) -> (tensor<3xf64>)
  func.return %a : tensor<3xf64>
}
