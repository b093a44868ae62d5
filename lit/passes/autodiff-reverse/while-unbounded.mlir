// Reverse mode through a while without max_steps fails the pass at the
// loop, saying what to do; never a traceback.
// RUN: not gradc-opt %s -p autodiff-reverse 2>&1 | filecheck %s

// CHECK-NOT: Traceback

func.func @g(%x: tensor<f64>) -> tensor<f64> {
  // CHECK: while-unbounded.mlir:[[# @LINE + 1]]:3: error: pass 'autodiff-reverse' failed: while_loop: reverse-mode differentiation (grad, vjp, jacrev, hessian) of a while_loop needs a bound on its trip count: pass max_steps=N
  %c = array.while carries(%a = %x : tensor<f64>) invariants() cond {
    %one = array.constant dense<1.0> : tensor<f64>
    %p = array.compare gt %a, %one : tensor<f64>
    array.condition %p : tensor<i1>
  } body {
  ^bb0(%ba: tensor<f64>):
    %h = array.mul %ba, %ba : tensor<f64>
    array.yield %h : tensor<f64>
  }
  func.return %c : tensor<f64>
}

func.func @main2(%x: tensor<f64>) -> tensor<f64> {
  %y, %g = autodiff.grad @g(%x) wrt [0] : (tensor<f64>) -> (tensor<f64>), (tensor<f64>)
  func.return %g : tensor<f64>
}
