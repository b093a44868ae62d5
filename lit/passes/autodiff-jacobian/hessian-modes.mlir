// autodiff-jacobian: Hessian strategies. No mode (or "fwd-over-rev") is
// the forward-mode Jacobian of the gradient; "rev-over-fwd" the
// reverse-mode Jacobian of the forward-mode gradient (jacfwd of a scalar
// function returns its gradient); "auto" counts the multiplications of
// both candidates' simplified code and calls the cheaper, the choice and
// the counts on @<f>_hessauto_w0.
// RUN: gradc-opt %s -p autodiff-jacobian | filecheck %s
// RUN: gradc-opt %s | filecheck %s --check-prefix=ROUNDTRIP

func.func @g(%x: tensor<3xf64>) -> tensor<f64> {
  %e = array.exp %x : tensor<3xf64>
  %p = array.mul %e, %x : tensor<3xf64>
  %s = array.reduce_sum %p axes [0] : tensor<3xf64> -> tensor<f64>
  func.return %s : tensor<f64>
}

// ROUNDTRIP:      autodiff.hessian @g(%x) wrt [0] {compress = "never"} :
// ROUNDTRIP-NEXT: autodiff.hessian @g(%x) wrt [0] mode "rev-over-fwd" {compress = "never"} :
// ROUNDTRIP-NEXT: autodiff.hessian @g(%x) wrt [0] mode "auto" {compress = "never"} :

// CHECK-LABEL: func.func @main
// CHECK-NEXT:    func.call @g_grad_w0_jacfwd_w0(%x) : (tensor<3xf64>) -> tensor<3x3xf64>
// CHECK-NEXT:    func.call @g_jacfwd_w0_jacrev_w0(%x) : (tensor<3xf64>) -> tensor<3x3xf64>
// CHECK-NEXT:    func.call @g_hessauto_never_w0(%x) : (tensor<3xf64>) -> tensor<3x3xf64>
func.func @main(%x: tensor<3xf64>) -> (tensor<3x3xf64>, tensor<3x3xf64>, tensor<3x3xf64>) {
  %a = autodiff.hessian @g(%x) wrt [0] {compress = "never"} : (tensor<3xf64>) -> (tensor<3x3xf64>)
  %b = autodiff.hessian @g(%x) wrt [0] mode "rev-over-fwd" {compress = "never"} : (tensor<3xf64>) -> (tensor<3x3xf64>)
  %c = autodiff.hessian @g(%x) wrt [0] mode "auto" {compress = "never"} : (tensor<3xf64>) -> (tensor<3x3xf64>)
  func.return %a, %b, %c : tensor<3x3xf64>, tensor<3x3xf64>, tensor<3x3xf64>
}

// rev-over-fwd: the forward-mode gradient (the JVP batched over the 3
// input directions, fed the identity) ...
// CHECK-LABEL: func.func private @g_jacfwd_w0(%x: tensor<3xf64>) -> tensor<3xf64>
// CHECK:         func.call @g_jvp_w0_batch3
// ... and its Jacobian by the VJP batched over its 3 outputs.
// CHECK-LABEL: func.func private @g_jacfwd_w0_jacrev_w0(%x: tensor<3xf64>) -> tensor<3x3xf64>
// CHECK:         func.call @g_jacfwd_w0_vjp_w0_batch3

// auto: rev-over-fwd pushes 3 cotangents through code batched over 3
// tangents; fwd-over-rev is cheaper and called.
// CHECK-LABEL: func.func private @g_hessauto_never_w0
// CHECK-SAME:    gradc.derivative = "hessian", gradc.strategy = "fwd-over-rev"
// CHECK-SAME:    gradc.candidates = {"fwd-over-rev" = [[FOR:[0-9]+]] : i64, "rev-over-fwd" = [[ROF:[0-9]+]] : i64}
// CHECK-NEXT:    func.call @g_grad_w0_jacfwd_w0(%x)
// CHECK-NEXT:    func.return
