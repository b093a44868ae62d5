// autodiff-jacobian: a dense Hessian of one argument (here of shape 2x2, so
// a 4 x 4 matrix) ends in an `array.mirror`: the upper triangle of jacfwd of
// the gradient, copied across, so the result is exactly symmetric. With
// several arguments each diagonal block is mirrored and block (1, 0) is the
// transpose of block (0, 1). Compressed Hessians are not mirrored.
// RUN: gradc-opt %s -p autodiff-jacobian | filecheck %s

func.func @g(%x: tensor<2x2xf64>, %y: tensor<3xf64>) -> tensor<f64> {
  %e = array.exp %x : tensor<2x2xf64>
  %s = array.reduce_sum %e axes [0, 1] : tensor<2x2xf64> -> tensor<f64>
  %f = array.sin %y : tensor<3xf64>
  %t = array.reduce_sum %f axes [0] : tensor<3xf64> -> tensor<f64>
  %r = array.mul %s, %t : tensor<f64>
  func.return %r : tensor<f64>
}

func.func @main(%x: tensor<2x2xf64>, %y: tensor<3xf64>) -> (tensor<2x2x2x2xf64>, tensor<2x2x2x2xf64>, tensor<2x2x3xf64>, tensor<3x2x2xf64>, tensor<3x3xf64>, tensor<3x3xf64>) {
  %h = autodiff.hessian @g(%x, %y) wrt [0] {compress = "never"} : (tensor<2x2xf64>, tensor<3xf64>) -> (tensor<2x2x2x2xf64>)
  %hxx, %hxy, %hyx, %hyy = autodiff.hessian @g(%x, %y) wrt [0, 1] {compress = "never"} : (tensor<2x2xf64>, tensor<3xf64>) -> (tensor<2x2x2x2xf64>, tensor<2x2x3xf64>, tensor<3x2x2xf64>, tensor<3x3xf64>)
  %c = autodiff.hessian @g(%x, %y) wrt [1] {compress = "always"} : (tensor<2x2xf64>, tensor<3xf64>) -> (tensor<3x3xf64>)
  func.return %h, %hxx, %hxy, %hyx, %hyy, %c : tensor<2x2x2x2xf64>, tensor<2x2x2x2xf64>, tensor<2x2x3xf64>, tensor<3x2x2xf64>, tensor<3x3xf64>, tensor<3x3xf64>
}

// CHECK-LABEL: func.func private @g_grad_w0_jacfwd_w0
// CHECK:         %[[H:.*]] = array.transpose %{{.*}} perm [2, 3, 0, 1] : tensor<2x2x2x2xf64> -> tensor<2x2x2x2xf64>
// CHECK-NEXT:    %[[M:.*]] = array.reshape %[[H]] : tensor<2x2x2x2xf64> -> tensor<4x4xf64>
// CHECK-NEXT:    %[[S:.*]] = array.mirror %[[M]] : tensor<4x4xf64>
// CHECK-NEXT:    %[[R:.*]] = array.reshape %[[S]] : tensor<4x4xf64> -> tensor<2x2x2x2xf64>
// CHECK-NEXT:    func.return %[[R]] : tensor<2x2x2x2xf64>

// CHECK-LABEL: func.func private @g_grad_w0_1_jacfwd_w0_1
// CHECK:         %[[XY:.*]] = array.transpose %{{.*}} perm [1, 2, 0] : tensor<3x2x2xf64> -> tensor<2x2x3xf64>
// CHECK:         %[[YY:.*]] = array.transpose %{{.*}} perm [1, 0] : tensor<3x3xf64> -> tensor<3x3xf64>
// CHECK-NEXT:    %[[M:.*]] = array.reshape %{{.*}} : tensor<2x2x2x2xf64> -> tensor<4x4xf64>
// CHECK-NEXT:    %[[XXM:.*]] = array.mirror %[[M]] : tensor<4x4xf64>
// CHECK-NEXT:    %[[XX:.*]] = array.reshape %[[XXM]] : tensor<4x4xf64> -> tensor<2x2x2x2xf64>
// CHECK-NEXT:    %[[YX:.*]] = array.transpose %[[XY]] perm [2, 0, 1] : tensor<2x2x3xf64> -> tensor<3x2x2xf64>
// CHECK-NEXT:    %[[YYM:.*]] = array.mirror %[[YY]] : tensor<3x3xf64>
// CHECK-NEXT:    func.return %[[XX]], %[[XY]], %[[YX]], %[[YYM]]

// A compressed Hessian (`compress = "always"`) is colored, not mirrored.
// CHECK-LABEL: func.func private @g_grad_w1_jacfwd_w1_colors
// CHECK-NOT:     array.mirror
// CHECK:         func.return
