// The checkpoint option of a request reaches each loop it differentiates:
// the forward scan of a scan's VJP is marked with how many of its per-step
// outputs are the tape (autodiff.tape, here tanh's result and the reshaped
// carry) and with the mode (autodiff.checkpoint), which lower-array-to-loops
// turns into snapshots and recomputation. A loop's own mode (the second
// function's scan) wins over the request's; a request without the option
// leaves the loops unmarked (the whole tape). The derived function's name
// says the mode, so requests with different modes do not share it.
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

func.func @g(%x: tensor<3xf64>) -> tensor<f64> {
  %c = array.scan length 4 (%i) carries(%a = %x : tensor<3xf64>) xs() invariants() -> () {
    %t = array.sin %a : tensor<3xf64>
    array.yield %t : tensor<3xf64>
  } {autodiff.checkpoint = "every=2"}
  %s = array.reduce_sum %c axes [0] : tensor<3xf64> -> tensor<f64>
  func.return %s : tensor<f64>
}

func.func @main(%x: tensor<3xf64>, %w: tensor<3x3xf64>) -> (tensor<3x3xf64>, tensor<3x3xf64>, tensor<3xf64>) {
  %y, %g = autodiff.grad @f(%x, %w) wrt [1] {checkpoint = "binomial(snapshots=2)"} : (tensor<3xf64>, tensor<3x3xf64>) -> (tensor<f64>), (tensor<3x3xf64>)
  %y2, %g2 = autodiff.grad @f(%x, %w) wrt [1] : (tensor<3xf64>, tensor<3x3xf64>) -> (tensor<f64>), (tensor<3x3xf64>)
  %y3, %g3 = autodiff.grad @g(%x) wrt [0] {checkpoint = "binomial(snapshots=2)"} : (tensor<3xf64>) -> (tensor<f64>), (tensor<3xf64>)
  func.return %g, %g2, %g3 : tensor<3x3xf64>, tensor<3x3xf64>, tensor<3xf64>
}

// CHECK-LABEL: func.func @main
// CHECK:         func.call @f_value_and_grad_w1_checkpoint_binomial_snapshots_2(
// CHECK:         func.call @f_value_and_grad_w1(
// CHECK:         func.call @g_value_and_grad_w0_checkpoint_binomial_snapshots_2(

// CHECK-LABEL: func.func private @f_value_and_grad_w1_checkpoint_binomial_snapshots_2
// CHECK:         array.scan length 5 (%{{.*}}) carries({{.*}}) -> (tensor<5x3xf64>, tensor<5x3x1xf64>) {
// CHECK:         } {autodiff.tape = 2 : i64, autodiff.checkpoint = "binomial(snapshots=2)"}
// CHECK:         array.scan length 5 reverse

// CHECK-LABEL: func.func private @f_value_and_grad_w1(
// CHECK:         array.scan length 5 (%{{.*}})
// CHECK:         } {autodiff.tape = 2 : i64}
// CHECK:         array.scan length 5 reverse

// CHECK-LABEL: func.func private @g_value_and_grad_w0_checkpoint_binomial_snapshots_2
// CHECK:         } {autodiff.tape = 1 : i64, autodiff.checkpoint = "every=2"}
