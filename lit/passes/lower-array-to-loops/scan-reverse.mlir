// A `reverse` array.scan is the same single loops.for, with the step
// visited at iteration %step being 3 - %step: xs are read, per-step outputs
// written and the index computed at that step.
// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s
// RUN: gradc-opt %s -p lower-array-to-loops,lower-loops-to-c -t c | filecheck %s --check-prefix=C

// CHECK-LABEL: func.func @rev
// CHECK-SAME:    (%{{.*}}: memref<3xf64>, %[[XS:.*]]: memref<4x3xf64>, %{{.*}}: memref<3xf64>, %[[YS:.*]]: memref<4x3xf64>)
// CHECK-DAG:     %[[MINUS:.*]] = arith.constant -1 : index
// CHECK-DAG:     %[[LAST:.*]] = arith.constant 3 : index
// CHECK:         loops.for %[[STEP:.*]] = 0 to 4 step 1 {
// CHECK:           %[[S:.*]] = arith.muli %[[STEP]], %[[MINUS]] : index
// CHECK-NEXT:      %[[K:.*]] = arith.addi %[[S]], %[[LAST]] : index
// CHECK-NEXT:      loops.load %[[XS]][%[[K]], %{{.*}}] : memref<4x3xf64>
// CHECK:           %[[S2:.*]] = arith.muli %[[STEP]], %[[MINUS]] : index
// CHECK-NEXT:      %[[K2:.*]] = arith.addi %[[S2]], %[[LAST]] : index
// CHECK-NEXT:      %[[I:.*]] = arith.index_cast %[[K2]] : index to i64
// CHECK-NEXT:      arith.sitofp %[[I]] : i64 to f64
// CHECK:           loops.store %{{.*}}, %[[YS]][%[[K2]], %{{.*}}] : memref<4x3xf64>
// CHECK-NOT:     loops.for %{{.*}} = 0 to 4

// C:      for (int64_t step = 0; step < 4; ++step) {
// C:        xs[(step * -1 + 3) * 3 + i]
// C-NOT:  < 4;
func.func @rev(%init: tensor<3xf64>, %xs: tensor<4x3xf64>) -> (tensor<3xf64>, tensor<4x3xf64>) {
  %c, %ys = array.scan length 4 reverse (%i) carries(%a = %init : tensor<3xf64>) xs(%x = %xs : tensor<4x3xf64>) invariants() -> (tensor<4x3xf64>) {
    %b = array.add %a, %x : tensor<3xf64>
    %j = array.broadcast %i dims [] : tensor<f64> -> tensor<3xf64>
    %y = array.mul %b, %j : tensor<3xf64>
    array.yield %b, %y : tensor<3xf64>, tensor<3xf64>
  }
  func.return %c, %ys : tensor<3xf64>, tensor<4x3xf64>
}
