// A tagged forward scan whose tape is also read elsewhere (here: returned)
// is not lowered as a pair: both scans become ordinary loops, the tape a
// stacked output in full, whatever the checkpoint mode asks.
// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s

// CHECK-LABEL: func.func @shared_tape
// CHECK-NOT:     autodiff.
// CHECK:         loops.for %{{.*}} = 0 to 4 step 1 {
// CHECK:         loops.for %{{.*}} = 0 to 4 step 1 {
// CHECK-NOT:     autodiff.
func.func @shared_tape(%x0: tensor<3xf64>, %seed: tensor<3xf64>) -> (tensor<3xf64>, tensor<4x3xf64>) {
  %x, %t = array.scan length 4 (%i) carries(%x1 = %x0 : tensor<3xf64>) xs() invariants() -> (tensor<4x3xf64>) {
    %h = array.tanh %x1 : tensor<3xf64>
    %n = array.add %x1, %h : tensor<3xf64>
    array.yield %n, %h : tensor<3xf64>, tensor<3xf64>
  } {autodiff.tape = 1 : i64, autodiff.checkpoint = "binomial(snapshots=2)"}
  %g = array.scan length 4 reverse (%j) carries(%g1 = %seed : tensor<3xf64>) xs(%h1 = %t : tensor<4x3xf64>) invariants() -> () {
    %sq = array.mul %h1, %h1 : tensor<3xf64>
    %n = array.add %g1, %sq : tensor<3xf64>
    array.yield %n : tensor<3xf64>
  }
  func.return %g, %t : tensor<3xf64>, tensor<4x3xf64>
}
