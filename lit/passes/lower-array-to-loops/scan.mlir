// array.scan becomes one loops.for over the trip count (never unrolled):
// the initial carry is copied into the final carry's output, slice %step of
// xs is loaded in place, the per-step output is stored into row %step of the
// stacked result, and the new carry goes through a temporary that is copied
// back at the end of each step.
// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s
// RUN: gradc-opt %s -p lower-array-to-loops,lower-loops-to-c -t c | filecheck %s --check-prefix=C

// CHECK-LABEL: func.func @scan
// CHECK-SAME:    (%[[INIT:.*]]: memref<3xf64>, %[[XS:.*]]: memref<100x3xf64>, %[[CARRY:.*]]: memref<3xf64>, %[[YS:.*]]: memref<100x3xf64>)
// CHECK:         %[[NEW:.*]] = loops.alloc "workspace" : memref<3xf64>
// CHECK:         loops.for %[[I:.*]] = 0 to 3 step 1 {
// CHECK-NEXT:      %[[V:.*]] = loops.load %[[INIT]][%[[I]]] : memref<3xf64>
// CHECK-NEXT:      loops.store %[[V]], %[[CARRY]][%[[I]]] : memref<3xf64>
// CHECK:         loops.for %[[STEP:.*]] = 0 to 100 step 1 {
// CHECK:           loops.for %[[J:.*]] = 0 to 3 step 1 {
// CHECK-NEXT:        %[[A:.*]] = loops.load %[[CARRY]][%[[J]]] : memref<3xf64>
// CHECK-NEXT:        %[[X:.*]] = loops.load %[[XS]][%[[STEP]], %[[J]]] : memref<100x3xf64>
// CHECK-NEXT:        %[[B:.*]] = arith.addf %[[A]], %[[X]] : f64
// CHECK-NEXT:        %[[S:.*]] = arith.index_cast %[[STEP]] : index to i64
// CHECK-NEXT:        %[[F:.*]] = arith.sitofp %[[S]] : i64 to f64
// CHECK-NEXT:        %[[D:.*]] = arith.mulf %[[B]], %[[F]] : f64
// CHECK-NEXT:        loops.store %[[D]], %[[NEW]][%[[J]]] : memref<3xf64>
// CHECK:           loops.for %[[K:.*]] = 0 to 3 step 1 {
// CHECK-NEXT:        %[[E:.*]] = loops.load %[[NEW]][%[[K]]] : memref<3xf64>
// CHECK-NEXT:        %[[Y:.*]] = arith.negf %[[E]] : f64
// CHECK-NEXT:        loops.store %[[Y]], %[[YS]][%[[STEP]], %[[K]]] : memref<100x3xf64>
// CHECK:           loops.for %[[L:.*]] = 0 to 3 step 1 {
// CHECK-NEXT:        %[[T:.*]] = loops.load %[[NEW]][%[[L]]] : memref<3xf64>
// CHECK-NEXT:        loops.store %[[T]], %[[CARRY]][%[[L]]] : memref<3xf64>
// CHECK-NOT:     loops.for %{{.*}} = 0 to 100
// CHECK:         func.return

// C:      for (int64_t step = 0; step < 100; ++step) {
// C:        out_1[step * 3 + i] = -v0;
// C-NOT:  < 100;
func.func @scan(%init: tensor<3xf64>, %xs: tensor<100x3xf64>) -> (tensor<3xf64>, tensor<100x3xf64>) {
  %c, %ys = array.scan length 100 (%i) carries(%a = %init : tensor<3xf64>) xs(%x = %xs : tensor<100x3xf64>) invariants() -> (tensor<100x3xf64>) {
    %b = array.add %a, %x : tensor<3xf64>
    %j = array.broadcast %i dims [] : tensor<f64> -> tensor<3xf64>
    %d = array.mul %b, %j : tensor<3xf64>
    %y = array.neg %d : tensor<3xf64>
    array.yield %d, %y : tensor<3xf64>, tensor<3xf64>
  }
  func.return %c, %ys : tensor<3xf64>, tensor<100x3xf64>
}
