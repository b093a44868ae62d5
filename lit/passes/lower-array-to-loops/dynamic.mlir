// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s
// RUN: gradc-opt %s -p lower-array-to-loops,lower-loops-to-c -t c | filecheck %s --check-prefix=C

// A dynamic slice is read in its consumer's loop at start + i; the start
// is clamped in floats (fmax drops a NaN), then truncated to an index.
// CHECK-LABEL: func.func @dynamic_slice
// CHECK-SAME:    (%[[X:.*]]: memref<5x4xf64>, %[[I:.*]]: memref<f64>, %[[OUT:.*]]: memref<2x4xf64>)
// CHECK-NOT:     loops.alloc
// CHECK:         loops.for %[[R:.*]] = 0 to 2 step 1 {
// CHECK-NEXT:      loops.for %[[COL:.*]] = 0 to 4 step 1 {
// CHECK-NEXT:        %[[S:.*]] = loops.load %[[I]][] : memref<f64>
// CHECK-NEXT:        %[[LO:.*]] = arith.maxnumf %[[S]], %{{.*}} : f64
// CHECK-NEXT:        %[[HI:.*]] = arith.minnumf %[[LO]], %{{.*}} : f64
// CHECK-NEXT:        %[[W:.*]] = arith.fptosi %[[HI]] : f64 to i64
// CHECK-NEXT:        %[[K:.*]] = arith.index_cast %[[W]] : i64 to index
// CHECK-NEXT:        %[[ROW:.*]] = arith.addi %[[R]], %[[K]] : index
// CHECK-NEXT:        %[[V:.*]] = loops.load %[[X]][%[[ROW]], %[[COL]]] : memref<5x4xf64>
// CHECK-NEXT:        %[[E:.*]] = math.exp %[[V]] : f64
// CHECK-NEXT:        loops.store %[[E]], %[[OUT]][%[[R]], %[[COL]]] : memref<2x4xf64>
// C-LABEL: int dynamic_slice(
// C:      const double [[LO:v[0-9]+]] = fmax(v{{[0-9]+}}, 0.0);
// C-NEXT: const double [[HI:v[0-9]+]] = fmin([[LO]], 3.0);
// C-NEXT: x[(i_1 + (int64_t)((int64_t)[[HI]])) * 4 + i_2]
func.func @dynamic_slice(%x: tensor<5x4xf64>, %i: tensor<f64>) -> tensor<2x4xf64> {
  %zero = array.constant dense<0.0> : tensor<f64>
  %s = array.dynamic_slice %x[%i, %zero] sizes [2, 4] : tensor<5x4xf64>, tensor<f64>, tensor<f64> -> tensor<2x4xf64>
  %e = array.exp %s : tensor<2x4xf64>
  func.return %e : tensor<2x4xf64>
}

// A dynamic update copies the input, then stores the update over its window.
// CHECK-LABEL: func.func @dynamic_update_slice
// CHECK-SAME:    (%[[X:.*]]: memref<5xf64>, %[[U:.*]]: memref<2xf64>, %[[I:.*]]: memref<f64>, %[[OUT:.*]]: memref<5xf64>)
// CHECK:         loops.for %[[A:.*]] = 0 to 5 step 1 {
// CHECK-NEXT:      %[[V:.*]] = loops.load %[[X]][%[[A]]] : memref<5xf64>
// CHECK-NEXT:      loops.store %[[V]], %[[OUT]][%[[A]]] : memref<5xf64>
// CHECK:         loops.for %[[B:.*]] = 0 to 2 step 1 {
// CHECK:           %[[K:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK-NEXT:      %[[W:.*]] = loops.load %[[U]][%[[B]]] : memref<2xf64>
// CHECK-NEXT:      %[[P:.*]] = arith.addi %[[B]], %[[K]] : index
// CHECK-NEXT:      loops.store %[[W]], %[[OUT]][%[[P]]] : memref<5xf64>
func.func @dynamic_update_slice(%x: tensor<5xf64>, %u: tensor<2xf64>, %i: tensor<f64>) -> tensor<5xf64> {
  %w = array.dynamic_update_slice %x, %u[%i] : tensor<5xf64>, tensor<2xf64>, tensor<f64> -> tensor<5xf64>
  func.return %w : tensor<5xf64>
}
