// autodiff-jacobian, mode "auto": the pass counts the multiplications of
// each candidate over the linearized graph (one sweep times the number of
// directions for fwd and rev, less what the simplified code skips; a split's segments by fwd or rev plus the
// products of their Jacobians) and emits the cheapest. The choice and the
// counts are attributes of the generated @<f>_jacauto_w0.
// RUN: gradc-opt %s -p autodiff-jacobian | filecheck %s

// 2 inputs, 6 outputs. One sweep: exp 2, mul 6 + 6 (both operands
// active), broadcast free: 14. Output (i, j) depends on input j only, so
// the requests' default compression (compression.py) pushes both input
// directions as one color: fwd 1 x 14 = 14; rev needs 3 colors: 42.
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

// An 8-2-8 chain with tanh after each layer: matmuls 16 each, tanh 2 and
// 8, one sweep 42. The identity seed times the first weight is that
// weight (array-simplify folds it: no multiplication), so fwd pushes 8
// directions through 26: 208; rev pushes 8 through all 42: 336.
func.func @chain(%x: tensor<8x1xf64>) -> tensor<8x1xf64> {
  %w1 = array.constant dense<0.5> : tensor<2x8xf64>
  %w2 = array.constant dense<0.25> : tensor<8x2xf64>
  %h = array.matmul %w1, %x : tensor<2x8xf64>, tensor<8x1xf64> -> tensor<2x1xf64>
  %t = array.tanh %h : tensor<2x1xf64>
  %y = array.matmul %w2, %t : tensor<8x2xf64>, tensor<2x1xf64> -> tensor<8x1xf64>
  %u = array.tanh %y : tensor<8x1xf64>
  func.return %u : tensor<8x1xf64>
}

// Scalar code (x picked element by element, the output a concatenation of
// scalars): vertex elimination at element level. One sweep is 8; sin's
// tangent (cotangent) is never built: its diagonal is multiplied into
// p's (1 once, 1 less per direction): fwd = 3 x 7 + 1 = 22, rev =
// 2 x 7 + 1 = 15; eliminating the five scalar intermediates in the searched
// order takes 10 products of partials.
func.func @scalars(%x: tensor<3xf64>) -> tensor<2xf64> {
  %a0 = array.slice %x [0:1:1] : tensor<3xf64> -> tensor<1xf64>
  %a1 = array.slice %x [1:2:1] : tensor<3xf64> -> tensor<1xf64>
  %a2 = array.slice %x [2:3:1] : tensor<3xf64> -> tensor<1xf64>
  %s = array.sin %a0 : tensor<1xf64>
  %p = array.mul %s, %a1 : tensor<1xf64>
  %q = array.mul %p, %a2 : tensor<1xf64>
  %r = array.exp %q : tensor<1xf64>
  %t = array.mul %r, %p : tensor<1xf64>
  %y = array.concatenate axis 0 %t, %r : tensor<1xf64>, tensor<1xf64> -> tensor<2xf64>
  func.return %y : tensor<2xf64>
}

// CHECK-LABEL: func.func @main
// CHECK-NEXT:    func.call @wide_jacauto_w0(%x) : (tensor<2xf64>) -> tensor<3x2x2xf64>
// CHECK-NEXT:    func.call @narrow_jacauto_w0(%y) : (tensor<6xf64>) -> tensor<6xf64>
// CHECK-NEXT:    func.call @chain_jacauto_w0(%z) : (tensor<8x1xf64>) -> tensor<8x1x8x1xf64>
// CHECK-NEXT:    func.call @scalars_jacauto_w0(%u) : (tensor<3xf64>) -> tensor<2x3xf64>
func.func @main(%x: tensor<2xf64>, %y: tensor<6xf64>, %z: tensor<8x1xf64>, %u: tensor<3xf64>) -> (tensor<3x2x2xf64>, tensor<6xf64>, tensor<8x1x8x1xf64>, tensor<2x3xf64>) {
  %a = autodiff.jacobian @wide(%x) wrt [0] mode "auto" : (tensor<2xf64>) -> (tensor<3x2x2xf64>)
  %b = autodiff.jacobian @narrow(%y) wrt [0] mode "auto" : (tensor<6xf64>) -> (tensor<6xf64>)
  %c = autodiff.jacobian @chain(%z) wrt [0] mode "auto" : (tensor<8x1xf64>) -> (tensor<8x1x8x1xf64>)
  %d = autodiff.jacobian @scalars(%u) wrt [0] mode "auto" : (tensor<3xf64>) -> (tensor<2x3xf64>)
  func.return %a, %b, %c, %d : tensor<3x2x2xf64>, tensor<6xf64>, tensor<8x1x8x1xf64>, tensor<2x3xf64>
}

// Forward mode, a call of the existing (compressed) function. Block
// elimination takes 12 by the model (the diagonal of exp folded into the
// broadcast before the product), but the model prices its 0/1 blocks at
// nothing: emitted, it has 24 multiplications in the simplified code
// against the compressed fwd's 6, so fwd is kept.
// CHECK-LABEL: func.func private @wide_jacauto_w0
// CHECK-SAME:    gradc.strategy = "fwd (the block elimination of 3 vertices has 24 multiplications in the simplified code, fwd 6)", gradc.cheapest = "search"
// CHECK-SAME:    gradc.candidates = {fwd = 14 : i64, rev = 42 : i64, markowitz = 12 : i64, search = 12 : i64, split = 28 : i64}
// CHECK-NEXT:    func.call @wide_jacfwd_w0_colors1(%x)

// One output: reverse mode. The block elimination (sin's diagonal times
// the sum's row) is tried, as the model prices the row at nothing, and
// ties with rev in the simplified code: the plainer rev is kept.
// CHECK-LABEL: func.func private @narrow_jacauto_w0
// CHECK-SAME:    gradc.strategy = "rev (the block elimination of 2 vertices has 0 multiplications in the simplified code, rev 0)"
// CHECK-SAME:    fwd = 36 : i64, rev = 6 : i64
// CHECK-NEXT:    func.call @narrow_jacrev_w0(%x)

// The chain, split at the 2-wide tanh: each half by fwd, its first
// weight folded into the seed: 8 x 2 (tanh) + 2 x 8 (tanh), and their
// 8x2 @ 2x8 product (128): 160. Weights and diagonals as closed forms
// would take 170.
// CHECK-LABEL: func.func private @chain_jacauto_w0
// CHECK-SAME:    gradc.strategy = "split (fwd[2:4] * fwd[0:2])"
// CHECK-SAME:    fwd = 208 : i64, rev = 336 : i64
// CHECK-SAME:    split = 160 : i64
// CHECK:         %[[T:.*]] = array.tanh
// CHECK-NEXT:    %[[B:.*]] = func.call @chain_jacauto_w0_seg2_4_jacfwd_w0(%[[T]])
// CHECK-NEXT:    %[[BM:.*]] = array.reshape %[[B]] : tensor<8x1x2x1xf64> -> tensor<8x2xf64>
// CHECK-NEXT:    %[[A:.*]] = func.call @chain_jacauto_w0_seg0_2_jacfwd_w0(%x)
// CHECK-NEXT:    %[[AM:.*]] = array.reshape %[[A]] : tensor<2x1x8x1xf64> -> tensor<2x8xf64>
// CHECK-NEXT:    %[[J:.*]] = array.matmul %[[BM]], %[[AM]] : tensor<8x2xf64>, tensor<2x8xf64> -> tensor<8x8xf64>
// CHECK-NEXT:    %[[R:.*]] = array.reshape %[[J]] : tensor<8x8xf64> -> tensor<8x1x8x1xf64>
// CHECK-NEXT:    func.return %[[R]]

// The scalar elimination: the partials (JVP rules fed ones), then exactly
// the 10 counted products of two partials, on rank-0 values; the rows are
// concatenated from the sinks' entries.
// CHECK-LABEL: func.func private @scalars_jacauto_w0
// CHECK-SAME:    gradc.strategy = "scalar elimination", gradc.cheapest = "scalar"
// CHECK-SAME:    gradc.candidates = {fwd = 22 : i64, rev = 15 : i64, markowitz = 13 : i64, search = 11 : i64, scalar = 10 : i64}
// CHECK-COUNT-10: array.mul %{{.*}}, %{{.*}} : tensor<f64>
// CHECK-NOT:     array.mul
// CHECK:         array.concatenate axis 0 %{{.*}}, %{{.*}}, %{{.*}} : tensor<1xf64>, tensor<1xf64>, tensor<1xf64> -> tensor<3xf64>
// CHECK:         array.concatenate axis 0 %{{.*}}, %{{.*}} : tensor<1x3xf64>, tensor<1x3xf64> -> tensor<2x3xf64>
