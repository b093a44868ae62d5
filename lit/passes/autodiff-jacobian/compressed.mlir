// autodiff-jacobian, compressed: with the default compress = "auto" a
// Jacobian whose structural pattern needs few colors runs one sweep per
// color (a diagonal Jacobian: one JVP direction, not four): a static
// gather reads the nonzeros, a scatter puts them into zeros (a block more
// than half full is one gather, its zeros reading the trailing zero);
// {sparse} requests return the nonzeros in CSR order. The Hessian of
// sum(x[:3] * x[1:]) (no diagonal) needs 2 colors of a star coloring.
// RUN: gradc-opt %s -p autodiff-jacobian | filecheck %s

func.func @f(%x: tensor<4xf64>) -> tensor<4xf64> {
  %s = array.sin %x : tensor<4xf64>
  %y = array.mul %s, %x : tensor<4xf64>
  func.return %y : tensor<4xf64>
}
func.func @g(%x: tensor<4xf64>) -> tensor<f64> {
  %a = array.slice %x [0:3:1] : tensor<4xf64> -> tensor<3xf64>
  %b = array.slice %x [1:4:1] : tensor<4xf64> -> tensor<3xf64>
  %p = array.mul %a, %b : tensor<3xf64>
  %s = array.reduce_sum %p axes [0] : tensor<3xf64> -> tensor<f64>
  func.return %s : tensor<f64>
}
func.func @main(%x: tensor<4xf64>) -> (tensor<4x4xf64>, tensor<4xf64>, tensor<6xf64>) {
  %jf = autodiff.jacobian @f(%x) wrt [0] mode "fwd" : (tensor<4xf64>) -> (tensor<4x4xf64>)
  %jr = autodiff.jacobian @f(%x) wrt [0] mode "rev" {sparse} : (tensor<4xf64>) -> (tensor<4xf64>)
  %h = autodiff.hessian @g(%x) wrt [0] {sparse} : (tensor<4xf64>) -> (tensor<6xf64>)
  func.return %jf, %jr, %h : tensor<4x4xf64>, tensor<4xf64>, tensor<6xf64>
}

// CHECK-LABEL: func.func @main
// CHECK-NEXT:    func.call @f_jacfwd_w0_colors1(%x) : (tensor<4xf64>) -> tensor<4x4xf64>
// CHECK-NEXT:    func.call @f_jacrev_w0_sparse4(%x) : (tensor<4xf64>) -> tensor<4xf64>
// CHECK-NEXT:    func.call @g_grad_w0_jacfwd_w0_sparse6(%x) : (tensor<4xf64>) -> tensor<6xf64>

// CHECK-LABEL: func.func private @f_jacfwd_w0_colors1
// CHECK-NEXT:    %[[S:.*]] = array.constant {autodiff.seed} dense<1.000000e+00> : tensor<1x4xf64>
// CHECK-NEXT:    %{{.*}}, %[[T:.*]] = func.call @f_jvp_w0_batch1(%x, %[[S]])
// CHECK-NEXT:    %[[F:.*]] = array.reshape %[[T]] : tensor<1x4xf64> -> tensor<4xf64>
// CHECK-NEXT:    %[[Z:.*]] = array.constant dense<0.000000e+00> : tensor<1xf64>
// CHECK-NEXT:    %[[P:.*]] = array.concatenate axis 0 %[[F]], %[[Z]]
// CHECK-NEXT:    %[[V:.*]] = array.gather %[[P]] axes [0] indices dense<{{\[\[}}0], [1], [2], [3]]> : tensor<4x1xi32> : tensor<5xf64> -> tensor<4xf64>
// CHECK-NEXT:    %[[Z0:.*]] = array.constant dense<0.000000e+00> : tensor<16xf64>
// CHECK-NEXT:    %[[W:.*]] = array.constant dense<{{\[\[}}0], [5], [10], [15]]> : tensor<4x1xi32>
// CHECK-NEXT:    %[[S0:.*]] = array.scatter %[[Z0]], %[[W]], %[[V]] axes [0] kind "set" mode "clip"
// CHECK-NEXT:    %[[J:.*]] = array.reshape %[[S0]] : tensor<16xf64> -> tensor<4x4xf64>
// CHECK-NEXT:    func.return %[[J]]

// CHECK-LABEL: func.func private @f_jacrev_w0_sparse4
// CHECK:         func.call @f_vjp_w0_batch1
// CHECK:         array.gather %{{.*}} axes [0] indices dense<{{\[\[}}0], [1], [2], [3]]> : tensor<4x1xi32> : tensor<5xf64> -> tensor<4xf64>

// CHECK-LABEL: func.func private @g_grad_w0_jacfwd_w0_sparse6
// CHECK-NEXT:    %[[S:.*]] = array.constant {autodiff.seed} dense<{{\[\[}}1.000000e+00, 1.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 1.000000e+00, 1.000000e+00]]> : tensor<2x4xf64>
// CHECK-NEXT:    %{{.*}}, %{{.*}} = func.call @g_grad_w0_jvp_w0_batch2(%x, %[[S]])
// CHECK:         array.gather %{{.*}} axes [0] indices dense<{{\[\[}}0], [1], [5], [2], [6], [7]]> : tensor<6x1xi32> : tensor<9xf64> -> tensor<6xf64>
