// autodiff-jacobian: Jacobians in vector mode (compress = "never"; compressed.mlir has the colored sweeps). `fwd` is one call of the JVP
// function batched over all 3 input directions (tangents with a leading
// dimension 3, fed the identity); `rev` is one call of the VJP function
// batched over both output directions. Hessian = forward over reverse.
// RUN: gradc-opt %s -p autodiff-jacobian | filecheck %s

func.func @f(%x: tensor<3xf64>) -> tensor<2xf64> {
  %s = array.sin %x : tensor<3xf64>
  %y = array.slice %s [1:3:1] : tensor<3xf64> -> tensor<2xf64>
  func.return %y : tensor<2xf64>
}

func.func @g(%x: tensor<3xf64>) -> tensor<f64> {
  %e = array.exp %x : tensor<3xf64>
  %s = array.reduce_sum %e axes [0] : tensor<3xf64> -> tensor<f64>
  func.return %s : tensor<f64>
}

// CHECK-LABEL: func.func @main
// CHECK-NEXT:    func.call @f_jacfwd_w0(%x) : (tensor<3xf64>) -> tensor<2x3xf64>
// CHECK-NEXT:    func.call @f_jacrev_w0(%x) : (tensor<3xf64>) -> tensor<2x3xf64>
// CHECK-NEXT:    func.call @g_grad_w0_jacfwd_w0(%x) : (tensor<3xf64>) -> tensor<3x3xf64>
func.func @main(%x: tensor<3xf64>) -> (tensor<2x3xf64>, tensor<2x3xf64>, tensor<3x3xf64>) {
  %jf = autodiff.jacobian @f(%x) wrt [0] mode "fwd" {compress = "never"} : (tensor<3xf64>) -> (tensor<2x3xf64>)
  %jr = autodiff.jacobian @f(%x) wrt [0] mode "rev" {compress = "never"} : (tensor<3xf64>) -> (tensor<2x3xf64>)
  %h = autodiff.hessian @g(%x) wrt [0] {compress = "never"} : (tensor<3xf64>) -> (tensor<3x3xf64>)
  func.return %jf, %jr, %h : tensor<2x3xf64>, tensor<2x3xf64>, tensor<3x3xf64>
}

// The batched JVP: the primal work stays unbatched (computed once), the
// tangent carries the leading dimension of 3 directions.
// CHECK-LABEL: func.func private @f_jvp_w0_batch3
// CHECK-SAME:    (%{{.*}}: tensor<3xf64>, %[[DX:.*]]: tensor<3x3xf64>) -> (tensor<3x2xf64>, tensor<3x2xf64>)
// CHECK:         %[[COS:.*]] = array.cos %{{.*}} : tensor<3xf64>
// CHECK-NEXT:    %[[B:.*]] = array.broadcast %[[COS]] dims [1] : tensor<3xf64> -> tensor<3x3xf64>
// CHECK-NEXT:    %[[DS:.*]] = array.mul %[[DX]], %[[B]] : tensor<3x3xf64>
// CHECK:         %[[DY:.*]] = array.slice %[[DS]] [0:3:1, 1:3:1] : tensor<3x3xf64> -> tensor<3x2xf64>
// CHECK:         func.return %{{.*}}, %[[DY]] : tensor<3x2xf64>, tensor<3x2xf64>

// One call on the identity basis; row k of the tangent is column k of the
// Jacobian, so a transpose gives the output-major [2, 3] layout.
// CHECK-LABEL: func.func private @f_jacfwd_w0
// CHECK-SAME:    (%[[X:.*]]: tensor<3xf64>) -> tensor<2x3xf64>
// CHECK-NEXT:    %[[I:.*]] = array.constant {autodiff.seed} dense<{{\[\[}}1.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 1.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 1.000000e+00]]> : tensor<3x3xf64>
// CHECK-NEXT:    %{{.*}}, %[[T:.*]] = func.call @f_jvp_w0_batch3(%[[X]], %[[I]]) : (tensor<3xf64>, tensor<3x3xf64>) -> (tensor<3x2xf64>, tensor<3x2xf64>)
// CHECK-NEXT:    %[[J:.*]] = array.transpose %[[T]] perm [1, 0] : tensor<3x2xf64> -> tensor<2x3xf64>
// CHECK-NEXT:    func.return %[[J]] : tensor<2x3xf64>

// The batched VJP: cotangents [2 directions, 2 outputs]; slice's adjoint
// pads with zeros in front.
// CHECK-LABEL: func.func private @f_vjp_w0_batch2
// CHECK-SAME:    (%{{.*}}: tensor<3xf64>, %[[U:.*]]: tensor<2x2xf64>) -> (tensor<2x2xf64>, tensor<2x3xf64>)
// CHECK:         array.concatenate axis 1 %{{.*}}, %[[U]] : tensor<2x1xf64>, tensor<2x2xf64> -> tensor<2x3xf64>

// Row i of the gradient is row i of the Jacobian: no transpose.
// CHECK-LABEL: func.func private @f_jacrev_w0
// CHECK-NEXT:    %[[I:.*]] = array.constant {autodiff.seed} dense<{{\[\[}}1.000000e+00, 0.000000e+00], [0.000000e+00, 1.000000e+00]]> : tensor<2x2xf64>
// CHECK-NEXT:    %{{.*}}, %[[G:.*]] = func.call @f_vjp_w0_batch2(%x, %[[I]]) : (tensor<3xf64>, tensor<2x2xf64>) -> (tensor<2x2xf64>, tensor<2x3xf64>)
// CHECK-NEXT:    func.return %[[G]] : tensor<2x3xf64>

// The Hessian: the gradient function, its JVP batched over 3 directions.
// CHECK-LABEL: func.func private @g_grad_w0(%x: tensor<3xf64>) -> tensor<3xf64>
// CHECK-LABEL: func.func private @g_grad_w0_jvp_w0_batch3
// CHECK-SAME:    (%{{.*}}: tensor<3xf64>, %{{.*}}: tensor<3x3xf64>) -> (tensor<3x3xf64>, tensor<3x3xf64>)
// CHECK-LABEL: func.func private @g_grad_w0_jacfwd_w0
// CHECK:         func.call @g_grad_w0_jvp_w0_batch3
