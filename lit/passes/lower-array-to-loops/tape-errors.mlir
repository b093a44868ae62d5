// A checkpoint mode the pass cannot use fails it at the forward scan, with
// the reason; never a traceback.
// RUN: not gradc-opt %s -p lower-array-to-loops 2>&1 | filecheck %s

// CHECK-NOT: Traceback
// CHECK: tape-errors.mlir:[[# @LINE + 2]]:3: error: pass 'lower-array-to-loops' failed: checkpoint budget=8: a checkpoint budget of 8 bytes does not hold one state of 24 bytes
func.func @pair(%x0: tensor<3xf64>, %seed: tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>) {
  %x, %t = array.scan length 4 (%i) carries(%x1 = %x0 : tensor<3xf64>) xs() invariants() -> (tensor<4x3xf64>) {
    %h = array.tanh %x1 : tensor<3xf64>
    %n = array.add %x1, %h : tensor<3xf64>
    array.yield %n, %h : tensor<3xf64>, tensor<3xf64>
  } {autodiff.tape = 1 : i64, autodiff.checkpoint = "budget=8"}
  %g = array.scan length 4 reverse (%j) carries(%g1 = %seed : tensor<3xf64>) xs(%h1 = %t : tensor<4x3xf64>) invariants() -> () {
    %sq = array.mul %h1, %h1 : tensor<3xf64>
    %n = array.add %g1, %sq : tensor<3xf64>
    array.yield %n : tensor<3xf64>
  }
  func.return %x, %g : tensor<3xf64>, tensor<3xf64>
}
