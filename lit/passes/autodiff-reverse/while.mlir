// Reverse mode through array.while with max_steps 8: a forward while also
// carries a step counter and a tape of static capacity 8 whose slot k gets
// the carry at the start of step k (a dynamic update of itself); then a
// while over k = n-1, ..., 0 reads step k's carry back, recomputes the step
// and runs its VJP, carrying the carry's cotangent and summing the
// invariant's. Both keep max_steps.
// RUN: gradc-opt %s -p autodiff-reverse | filecheck %s
// RUN: gradc-opt %s -p differentiate,array-simplify,canonicalize,cse,dce,lower-array-to-loops,lower-loops-to-c -t c | filecheck %s --check-prefix=CSRC

func.func @f(%x: tensor<3xf64>, %w: tensor<f64>) -> tensor<f64> {
  %c = array.while max_steps 8 carries(%a = %x : tensor<3xf64>) invariants(%m = %w : tensor<f64>) cond {
    %s = array.reduce_sum %a axes [0] : tensor<3xf64> -> tensor<f64>
    %one = array.constant dense<1.0> : tensor<f64>
    %p = array.compare gt %s, %one : tensor<f64>
    array.condition %p : tensor<i1>
  } body {
  ^bb0(%ba: tensor<3xf64>, %bm: tensor<f64>):
    %mb = array.broadcast %bm dims [] : tensor<f64> -> tensor<3xf64>
    %t = array.mul %ba, %mb : tensor<3xf64>
    %u = array.sin %t : tensor<3xf64>
    array.yield %u : tensor<3xf64>
  }
  %s = array.reduce_sum %c axes [0] : tensor<3xf64> -> tensor<f64>
  func.return %s : tensor<f64>
}

func.func @main(%x: tensor<3xf64>, %w: tensor<f64>) -> (tensor<3xf64>, tensor<f64>) {
  %y, %gx, %gw = autodiff.grad @f(%x, %w) wrt [0, 1] : (tensor<3xf64>, tensor<f64>) -> (tensor<f64>), (tensor<3xf64>, tensor<f64>)
  func.return %gx, %gw : tensor<3xf64>, tensor<f64>
}

// CHECK-LABEL: func.func private @f_value_and_grad_w0_1
// CHECK:         %[[FIN:.*]], %[[N:.*]], %[[TAPE:.*]] = array.while max_steps 8 carries(%[[A:.*]] = %{{.*}} : tensor<3xf64>, %{{.*}} = %{{.*}} : tensor<i64>, %{{.*}} = %{{.*}} : tensor<8x3xf64>) invariants(%{{.*}} = %{{.*}} : tensor<f64>) cond {
// CHECK:           array.dynamic_update_slice
// CHECK:         %[[LAST:.*]] = array.sub %[[N]], %{{.*}} : tensor<i64>
// CHECK:         array.while max_steps 8 carries(%{{.*}} = %[[LAST]] : tensor<i64>, %{{.*}} = %{{.*}} : tensor<3xf64>, %{{.*}} = %{{.*}} : tensor<f64>) invariants(%{{.*}} = %[[TAPE]] : tensor<8x3xf64>, %{{.*}} = %{{.*}} : tensor<f64>) cond {
// CHECK:           array.compare ge
// CHECK:         } body {
// CHECK:           array.dynamic_slice
// CHECK:           array.cos

// CSRC-LABEL: int g_main(
// CSRC: for (int64_t n = 0;; ++n) {
// CSRC: if (n >= 8) return 1;
// CSRC: for (int64_t n = 0;; ++n) {
// CSRC: if (n >= 8) return 2;
