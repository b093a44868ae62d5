// Hessians by edge pushing: one reverse sweep that carries, with each
// value's adjoint, the second-order blocks of pairs of values; elementwise
// ops scale them by their partials and create diagonal blocks from their
// second partials (the JVP of the op's VJP fed ones), index maps push
// them through their batched VJP, with no multiplication.
// RUN: gradc-opt %s -p autodiff-jacobian | filecheck %s
// RUN: gradc-opt %s -p differentiate,array-simplify,factor-broadcasts,canonicalize,cse,dce | filecheck %s --check-prefix=SIMPLE

// sum(e^x x): the Hessian is the diagonal 2 e^x + x e^x.
func.func @g(%x: tensor<3xf64>) -> tensor<f64> {
  %e = array.exp %x : tensor<3xf64>
  %p = array.mul %e, %x : tensor<3xf64>
  %s = array.reduce_sum %p axes [0] : tensor<3xf64> -> tensor<f64>
  func.return %s : tensor<f64>
}

// x[1:] * x[:-1]: the slices push the product's cross block to the
// super- and subdiagonal of a tridiagonal Hessian, with no multiplication.
func.func @band(%x: tensor<4xf64>) -> tensor<f64> {
  %a = array.slice %x [1:4:1] : tensor<4xf64> -> tensor<3xf64>
  %b = array.slice %x [0:3:1] : tensor<4xf64> -> tensor<3xf64>
  %p = array.mul %a, %b : tensor<3xf64>
  %s = array.reduce_sum %p axes [0] : tensor<3xf64> -> tensor<f64>
  func.return %s : tensor<f64>
}

func.func @main(%x: tensor<3xf64>, %y: tensor<4xf64>) -> (tensor<3x3xf64>, tensor<4x4xf64>) {
  %a = autodiff.hessian @g(%x) wrt [0] mode "edge-pushing" : (tensor<3xf64>) -> (tensor<3x3xf64>)
  %b = autodiff.hessian @band(%y) wrt [0] mode "edge-pushing" : (tensor<4xf64>) -> (tensor<4x4xf64>)
  func.return %a, %b : tensor<3x3xf64>, tensor<4x4xf64>
}

// CHECK-LABEL: func.func @main
// CHECK-NEXT:    func.call @g_hessedge_w0(%x) : (tensor<3xf64>) -> tensor<3x3xf64>
// CHECK-NEXT:    func.call @band_hessedge_w0(%y) : (tensor<4xf64>) -> tensor<4x4xf64>

// The sweep over @g: the sum's VJP gives the product's adjoint (ones);
// the product's second partials, JVP of its VJP in %x fed ones, make the
// cross block (e, x); exp's VJP and the JVP of it make the rest.
// CHECK-LABEL: func.func private @g_hessedge_w0(%x: tensor<3xf64>) -> tensor<3x3xf64>
// CHECK:         func.call @g_hessedge_w0_op3_vjp_w0(
// CHECK:         func.call @g_hessedge_w0_op2_vjp_w0_1_jvp_w1(
// CHECK:         func.call @g_hessedge_w0_op1_vjp_w0_jvp_w0(

// Simplified: 3 multiplications, the diagonal placed by a select; the
// band's Hessian folds to its constant (ones beside the diagonal).
// SIMPLE-LABEL: func.func @main
// SIMPLE-NEXT:    %[[E:.*]] = array.exp %x : tensor<3xf64>
// SIMPLE-NEXT:    %[[TWO:.*]] = array.add %[[E]], %[[E]] : tensor<3xf64>
// SIMPLE-NEXT:    %[[XE:.*]] = array.mul %[[E]], %x : tensor<3xf64>
// SIMPLE-NEXT:    %[[D:.*]] = array.add %[[TWO]], %[[XE]] : tensor<3xf64>
// SIMPLE-NOT:     array.mul
// SIMPLE:         %a = array.select %{{.*}}, %{{.*}}, %{{.*}} : tensor<3x3xi1>, tensor<3x3xf64>
// SIMPLE-NEXT:    %b = array.constant dense<{{\[}}[0.000000e+00, 1.000000e+00, 0.000000e+00, 0.000000e+00], [1.000000e+00, 0.000000e+00, 1.000000e+00, 0.000000e+00], [0.000000e+00, 1.000000e+00, 0.000000e+00, 1.000000e+00], [0.000000e+00, 0.000000e+00, 1.000000e+00, 0.000000e+00]]> : tensor<4x4xf64>
// SIMPLE-NEXT:    func.return %a, %b
