// autodiff-jacobian: Hessian strategies. No mode (or "fwd-over-rev") is
// the forward-mode Jacobian of the gradient, "rev-over-rev" its
// reverse-mode Jacobian; "rev-over-fwd" the reverse-mode Jacobian of the
// forward-mode gradient (jacfwd of a scalar function returns its
// gradient); "edge-pushing" (hessian-edge-pushing.mlir) one reverse
// sweep carrying second-order blocks; "auto" counts the multiplications of each candidate's
// simplified code and calls the cheapest, the choice and the counts on
// @<f>_hessauto_w0.
// RUN: gradc-opt %s -p autodiff-jacobian | filecheck %s
// RUN: gradc-opt %s | filecheck %s --check-prefix=ROUNDTRIP

func.func @g(%x: tensor<3xf64>) -> tensor<f64> {
  %e = array.exp %x : tensor<3xf64>
  %p = array.mul %e, %x : tensor<3xf64>
  %s = array.reduce_sum %p axes [0] : tensor<3xf64> -> tensor<f64>
  func.return %s : tensor<f64>
}

// sum(x log(x / (1 - sum x))): its gradient is a chain of elementwise ops
// whose cotangents rev-over-rev's batched VJP never builds.
func.func @h(%x: tensor<8xf64>) -> tensor<f64> {
  %one = array.constant dense<1.000000e+00> : tensor<f64>
  %t = array.reduce_sum %x axes [0] : tensor<8xf64> -> tensor<f64>
  %d = array.sub %one, %t : tensor<f64>
  %b = array.broadcast %d dims [] : tensor<f64> -> tensor<8xf64>
  %q = array.div %x, %b : tensor<8xf64>
  %l = array.log %q : tensor<8xf64>
  %m = array.mul %x, %l : tensor<8xf64>
  %s = array.reduce_sum %m axes [0] : tensor<8xf64> -> tensor<f64>
  func.return %s : tensor<f64>
}

// ROUNDTRIP:      autodiff.hessian @g(%x) wrt [0] {compress = "never"} :
// ROUNDTRIP-NEXT: autodiff.hessian @g(%x) wrt [0] mode "rev-over-rev" {compress = "never"} :
// ROUNDTRIP-NEXT: autodiff.hessian @g(%x) wrt [0] mode "rev-over-fwd" {compress = "never"} :
// ROUNDTRIP-NEXT: autodiff.hessian @g(%x) wrt [0] mode "auto" {compress = "never"} :
// ROUNDTRIP-NEXT: autodiff.hessian @h(%y) wrt [0] mode "auto" {compress = "never"} :

// CHECK-LABEL: func.func @main
// CHECK-NEXT:    func.call @g_grad_w0_jacfwd_w0(%x) : (tensor<3xf64>) -> tensor<3x3xf64>
// CHECK-NEXT:    func.call @g_grad_w0_jacrev_w0(%x) : (tensor<3xf64>) -> tensor<3x3xf64>
// CHECK-NEXT:    func.call @g_jacfwd_w0_jacrev_w0(%x) : (tensor<3xf64>) -> tensor<3x3xf64>
// CHECK-NEXT:    func.call @g_hessauto_never_w0(%x) : (tensor<3xf64>) -> tensor<3x3xf64>
// CHECK-NEXT:    func.call @h_hessauto_never_w0(%y) : (tensor<8xf64>) -> tensor<8x8xf64>
func.func @main(%x: tensor<3xf64>, %y: tensor<8xf64>) -> (tensor<3x3xf64>, tensor<3x3xf64>, tensor<3x3xf64>, tensor<3x3xf64>, tensor<8x8xf64>) {
  %a = autodiff.hessian @g(%x) wrt [0] {compress = "never"} : (tensor<3xf64>) -> (tensor<3x3xf64>)
  %b = autodiff.hessian @g(%x) wrt [0] mode "rev-over-rev" {compress = "never"} : (tensor<3xf64>) -> (tensor<3x3xf64>)
  %c = autodiff.hessian @g(%x) wrt [0] mode "rev-over-fwd" {compress = "never"} : (tensor<3xf64>) -> (tensor<3x3xf64>)
  %d = autodiff.hessian @g(%x) wrt [0] mode "auto" {compress = "never"} : (tensor<3xf64>) -> (tensor<3x3xf64>)
  %e = autodiff.hessian @h(%y) wrt [0] mode "auto" {compress = "never"} : (tensor<8xf64>) -> (tensor<8x8xf64>)
  func.return %a, %b, %c, %d, %e : tensor<3x3xf64>, tensor<3x3xf64>, tensor<3x3xf64>, tensor<3x3xf64>, tensor<8x8xf64>
}

// rev-over-rev: the gradient's VJP batched over its 3 outputs.
// CHECK-LABEL: func.func private @g_grad_w0_jacrev_w0(%x: tensor<3xf64>) -> tensor<3x3xf64>
// CHECK:         func.call @g_grad_w0_vjp_w0_batch3

// rev-over-fwd: the forward-mode gradient (the JVP batched over the 3
// input directions, fed the identity) ...
// CHECK-LABEL: func.func private @g_jacfwd_w0(%x: tensor<3xf64>) -> tensor<3xf64>
// CHECK:         func.call @g_jvp_w0_batch3
// ... and its Jacobian by the VJP batched over its 3 outputs.
// CHECK-LABEL: func.func private @g_jacfwd_w0_jacrev_w0(%x: tensor<3xf64>) -> tensor<3x3xf64>
// CHECK:         func.call @g_jacfwd_w0_vjp_w0_batch3

// auto on @g: edge pushing has the fewest multiplications (its Hessian
// is the diagonal 2 e^x + x e^x: hessian-edge-pushing.mlir); among the
// others fwd-over-rev, and rev-over-fwd pushes 3 cotangents through code
// batched over 3 tangents.
// CHECK-LABEL: func.func private @g_hessauto_never_w0
// CHECK-SAME:    gradc.derivative = "hessian", gradc.strategy = "edge-pushing"
// CHECK-SAME:    gradc.candidates = {"fwd-over-rev" = 18 : i64, "rev-over-rev" = 27 : i64, "rev-over-fwd" = 99 : i64, "edge-pushing" = 3 : i64}
// CHECK-NEXT:    func.call @g_hessedge_w0(%x)
// CHECK-NEXT:    func.return

// auto on @h: edge pushing again; of the two sweeps of directions,
// rev-over-rev.
// CHECK-LABEL: func.func private @h_hessauto_never_w0
// CHECK-SAME:    gradc.strategy = "edge-pushing"
// CHECK-SAME:    gradc.candidates = {"fwd-over-rev" = 952 : i64, "rev-over-rev" = 768 : i64, "rev-over-fwd" = 3600 : i64, "edge-pushing" = 164 : i64}
// CHECK-NEXT:    func.call @h_hessedge_w0(%x)
// CHECK-NEXT:    func.return
