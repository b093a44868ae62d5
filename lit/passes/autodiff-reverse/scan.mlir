// Reverse mode through array.scan: a forward scan computes the primal
// results and, as extra per-step outputs stacked along the steps (a tape of
// static size), the values the body's VJP reads (here tanh's result and the
// reshaped carry); then a `reverse` scan runs the body's VJP from the last
// step to the first, carrying the carry's cotangent and summing the
// invariant's cotangent from zero. The invariant %w is not stacked.
// RUN: gradc-opt %s -p autodiff-reverse | filecheck %s

func.func @f(%x: tensor<3xf64>, %w: tensor<3x3xf64>) -> tensor<f64> {
  %c = array.scan length 5 (%i) carries(%a = %x : tensor<3xf64>) xs() invariants(%m = %w : tensor<3x3xf64>) -> () {
    %r = array.reshape %a : tensor<3xf64> -> tensor<3x1xf64>
    %p = array.matmul %m, %r : tensor<3x3xf64>, tensor<3x1xf64> -> tensor<3x1xf64>
    %q = array.reshape %p : tensor<3x1xf64> -> tensor<3xf64>
    %t = array.tanh %q : tensor<3xf64>
    %b = array.add %a, %t : tensor<3xf64>
    array.yield %b : tensor<3xf64>
  }
  %s = array.reduce_sum %c axes [0] : tensor<3xf64> -> tensor<f64>
  func.return %s : tensor<f64>
}

func.func @main(%x: tensor<3xf64>, %w: tensor<3x3xf64>) -> tensor<3x3xf64> {
  %y, %g = autodiff.grad @f(%x, %w) wrt [1] : (tensor<3xf64>, tensor<3x3xf64>) -> (tensor<f64>), (tensor<3x3xf64>)
  func.return %g : tensor<3x3xf64>
}

// CHECK-LABEL: func.func private @f_value_and_grad_w1
// CHECK-SAME:    (%[[X:.*]]: tensor<3xf64>, %[[W:.*]]: tensor<3x3xf64>)
// CHECK:         %[[C:.*]], %[[TAPE_T:.*]], %[[TAPE_R:.*]] = array.scan length 5 (%{{.*}}) carries(%[[A:.*]] = %[[X]] : tensor<3xf64>) xs() invariants(%[[M:.*]] = %[[W]] : tensor<3x3xf64>) -> (tensor<5x3xf64>, tensor<5x3x1xf64>) {
// CHECK:           %[[R:.*]] = array.reshape %[[A]]
// CHECK:           %[[T:.*]] = array.tanh
// CHECK:           %[[B:.*]] = array.add %[[A]], %[[T]]
// CHECK-NEXT:      array.yield %[[B]], %[[T]], %[[R]] : tensor<3xf64>, tensor<3xf64>, tensor<3x1xf64>
// CHECK:         %[[ZERO:.*]] = array.constant dense<0.000000e+00> : tensor<3x3xf64>
// CHECK-NEXT:    %{{.*}}, %[[GW:.*]] = array.scan length 5 reverse (%{{.*}}) carries(%[[DA:.*]] = %{{.*}} : tensor<3xf64>, %[[DW:.*]] = %[[ZERO]] : tensor<3x3xf64>) xs(%[[T2:.*]] = %[[TAPE_T]] : tensor<5x3xf64>, %[[R2:.*]] = %[[TAPE_R]] : tensor<5x3x1xf64>) invariants(%[[M2:.*]] = %[[W]] : tensor<3x3xf64>) -> () {
// CHECK:           array.mul %[[T2]], %[[T2]]
// CHECK:           array.transpose %[[R2]]
// CHECK:           %[[OUTER:.*]] = array.matmul
// CHECK:           array.transpose %[[M2]]
// CHECK:           %[[SUM:.*]] = array.add %[[DW]], %[[OUTER]]
// CHECK-NEXT:      array.yield %{{.*}}, %[[SUM]] : tensor<3xf64>, tensor<3x3xf64>
// CHECK:         func.return %{{.*}}, %[[GW]]
