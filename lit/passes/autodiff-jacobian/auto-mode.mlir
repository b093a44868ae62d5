// autodiff-jacobian, mode "auto": the pass counts the multiplications of
// each candidate over the linearized graph (one sweep times the number of
// directions for fwd and rev; a split's segments by fwd or rev plus the
// products of their Jacobians) and emits the cheapest. The choice and the
// counts are attributes of the generated @<f>_jacauto_w0.
// RUN: gradc-opt %s -p autodiff-jacobian | filecheck %s

// 2 inputs, 6 outputs. One sweep: exp 2, mul 6 + 6 (both operands
// active), broadcast free: 14; fwd 2 x 14 = 28, rev 6 x 14 = 84.
func.func @wide(%x: tensor<2xf64>) -> tensor<3x2xf64> {
  %e = array.exp %x : tensor<2xf64>
  %b = array.broadcast %e dims [1] : tensor<2xf64> -> tensor<3x2xf64>
  %m = array.mul %b, %b : tensor<3x2xf64>
  func.return %m : tensor<3x2xf64>
}

// 6 inputs, 1 output: one sweep is sin's 6; fwd 36, rev 6.
func.func @narrow(%x: tensor<6xf64>) -> tensor<f64> {
  %s = array.sin %x : tensor<6xf64>
  %r = array.reduce_sum %s axes [0] : tensor<6xf64> -> tensor<f64>
  func.return %r : tensor<f64>
}

// An 8-2-8 chain: matmuls 16 each, tanh 2, so fwd = rev = 8 x 34 = 272.
// Reverse over the first layer (2 x 16 = 32), forward over the rest
// (2 x 18 = 36) and their 8x2 @ 2x8 product (128): 196.
func.func @chain(%x: tensor<8x1xf64>) -> tensor<8x1xf64> {
  %w1 = array.constant dense<0.5> : tensor<2x8xf64>
  %w2 = array.constant dense<0.25> : tensor<8x2xf64>
  %h = array.matmul %w1, %x : tensor<2x8xf64>, tensor<8x1xf64> -> tensor<2x1xf64>
  %t = array.tanh %h : tensor<2x1xf64>
  %y = array.matmul %w2, %t : tensor<8x2xf64>, tensor<2x1xf64> -> tensor<8x1xf64>
  func.return %y : tensor<8x1xf64>
}

// CHECK-LABEL: func.func @main
// CHECK-NEXT:    func.call @wide_jacauto_w0(%x) : (tensor<2xf64>) -> tensor<3x2x2xf64>
// CHECK-NEXT:    func.call @narrow_jacauto_w0(%y) : (tensor<6xf64>) -> tensor<6xf64>
// CHECK-NEXT:    func.call @chain_jacauto_w0(%z) : (tensor<8x1xf64>) -> tensor<8x1x8x1xf64>
func.func @main(%x: tensor<2xf64>, %y: tensor<6xf64>, %z: tensor<8x1xf64>) -> (tensor<3x2x2xf64>, tensor<6xf64>, tensor<8x1x8x1xf64>) {
  %a = autodiff.jacobian @wide(%x) wrt [0] mode "auto" : (tensor<2xf64>) -> (tensor<3x2x2xf64>)
  %b = autodiff.jacobian @narrow(%y) wrt [0] mode "auto" : (tensor<6xf64>) -> (tensor<6xf64>)
  %c = autodiff.jacobian @chain(%z) wrt [0] mode "auto" : (tensor<8x1xf64>) -> (tensor<8x1x8x1xf64>)
  func.return %a, %b, %c : tensor<3x2x2xf64>, tensor<6xf64>, tensor<8x1x8x1xf64>
}
