// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s
// RUN: gradc-opt %s -p lower-array-to-loops,lower-loops-to-c -t c | filecheck %s --check-prefix=C

// A gather is read inside its consumer's loop: the table is a constant
// buffer, flattened, and row b of it gives the position along the axis.
// CHECK-LABEL: func.func @gather
// CHECK-SAME:    (%[[X:.*]]: memref<3x4xf64>, %[[OUT:.*]]: memref<2x2x3xf64>)
// CHECK-NEXT:    %[[T:.*]] = loops.constant dense<[2, 0, 3, 3]> : tensor<4xi32> -> memref<4xi32>
// CHECK-NOT:     loops.alloc
// CHECK:         loops.for %[[I:.*]] = 0 to 2 step 1 {
// CHECK-NEXT:      loops.for %[[J:.*]] = 0 to 2 step 1 {
// CHECK-NEXT:        loops.for %[[K:.*]] = 0 to 3 step 1 {
// CHECK:               %[[ROW:.*]] = arith.addi %{{.*}}, %[[J]] : index
// CHECK-NEXT:          %[[E:.*]] = loops.load %[[T]][%[[ROW]]] : memref<4xi32>
// CHECK-NEXT:          %[[P:.*]] = arith.index_cast %[[E]] : i32 to index
// CHECK-NEXT:          %[[V:.*]] = loops.load %[[X]][%[[K]], %[[P]]] : memref<3x4xf64>
// CHECK-NEXT:          %[[EXP:.*]] = math.exp %[[V]] : f64
// CHECK-NEXT:          loops.store %[[EXP]], %[[OUT]][%[[I]], %[[J]], %[[K]]] : memref<2x2x3xf64>
// In C, the table is a `static const` array.
// C: static const int [[TABLE:k[0-9]+]][4] = {2, 0, 3, 3};
// C: x[{{.*}}(int64_t)v{{[0-9]+}}]
func.func @gather(%x: tensor<3x4xf64>) -> tensor<2x2x3xf64> {
  %0 = array.gather %x axes [1] indices dense<[[[2], [0]], [[3], [3]]]> : tensor<2x2x1xi32> : tensor<3x4xf64> -> tensor<2x2x3xf64>
  %1 = array.exp %0 : tensor<2x2x3xf64>
  func.return %1 : tensor<2x2x3xf64>
}
