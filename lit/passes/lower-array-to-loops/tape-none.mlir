// A scan's VJP (forward scan tagged autodiff.tape = 1, reverse scan reading
// that tape as its first xs) lowered together in mode none: the forward loop
// pushes each step's residual at tape slot %step, the reversed loop pops the
// slot of the step it reverses (3 - %step); no schedule.
// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s

// CHECK-LABEL: func.func @pair
// CHECK-DAG:     %[[MINUS:.*]] = arith.constant -1 : index
// CHECK-DAG:     %[[LAST:.*]] = arith.constant 3 : index
// CHECK:         %[[TAPE:.*]] = loops.alloc "workspace" : memref<4x3xf64>
// CHECK:         loops.for %[[STEP:.*]] = 0 to 4 step 1 {
// CHECK:           math.tanh
// CHECK:           autodiff.push %{{.*}}, %[[TAPE]][%[[STEP]]] : memref<3xf64> into memref<4x3xf64>
// CHECK:         }
// CHECK:         loops.for %[[BACK:.*]] = 0 to 4 step 1 {
// CHECK-NEXT:      %[[E:.*]] = loops.alloc "workspace" : memref<3xf64>
// CHECK-NEXT:      %[[S:.*]] = arith.muli %[[BACK]], %[[MINUS]] : index
// CHECK-NEXT:      %[[K:.*]] = arith.addi %[[S]], %[[LAST]] : index
// CHECK-NEXT:      autodiff.pop %[[TAPE]][%[[K]]] into %[[E]] : memref<4x3xf64> into memref<3xf64>
// CHECK:           loops.load %[[E]]
// CHECK:         }
// CHECK-NOT:     autodiff.schedule
func.func @pair(%x0: tensor<3xf64>, %seed: tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>) {
  %x, %t = array.scan length 4 (%i) carries(%x1 = %x0 : tensor<3xf64>) xs() invariants() -> (tensor<4x3xf64>) {
    %h = array.tanh %x1 : tensor<3xf64>
    %n = array.add %x1, %h : tensor<3xf64>
    array.yield %n, %h : tensor<3xf64>, tensor<3xf64>
  } {autodiff.tape = 1 : i64}
  %g = array.scan length 4 reverse (%j) carries(%g1 = %seed : tensor<3xf64>) xs(%h1 = %t : tensor<4x3xf64>) invariants() -> () {
    %one = array.constant dense<1.0> : tensor<3xf64>
    %sq = array.mul %h1, %h1 : tensor<3xf64>
    %d = array.sub %one, %sq : tensor<3xf64>
    %gd = array.mul %g1, %d : tensor<3xf64>
    %n = array.add %g1, %gd : tensor<3xf64>
    array.yield %n : tensor<3xf64>
  }
  func.return %x, %g : tensor<3xf64>, tensor<3xf64>
}
