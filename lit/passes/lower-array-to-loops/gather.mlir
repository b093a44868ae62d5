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

// A gather at run-time positions is read in its consumer's loop too: the
// index is loaded, clamped into range (so every access is in bounds), and
// in mode "fill" a row out of range reads 0.
// CHECK-LABEL: func.func @dynamic_gather
// CHECK-SAME:    (%[[X:.*]]: memref<3x4xf64>, %[[IDX:.*]]: memref<2x1xi32>, %[[OUT:.*]]: memref<2x3xf64>)
// CHECK-NOT:     loops.alloc
// CHECK:         loops.for %[[I:.*]] = 0 to 2 step 1 {
// CHECK-NEXT:      loops.for %[[K:.*]] = 0 to 3 step 1 {
// CHECK-NEXT:        %[[E:.*]] = loops.load %[[IDX]][%[[I]], %{{.*}}] : memref<2x1xi32>
// CHECK-NEXT:        %[[LO:.*]] = arith.cmpi sge, %[[E]], %{{.*}} : i32
// CHECK-NEXT:        %[[HI:.*]] = arith.cmpi slt, %[[E]], %{{.*}} : i32
// CHECK-NEXT:        %[[OK:.*]] = arith.andi %[[LO]], %[[HI]] : i1
// CHECK-NEXT:        %[[A:.*]] = arith.maxsi %[[E]], %{{.*}} : i32
// CHECK-NEXT:        %[[B:.*]] = arith.minsi %[[A]], %{{.*}} : i32
// CHECK:             %[[P:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK-NEXT:        %[[V:.*]] = loops.load %[[X]][%[[K]], %[[P]]] : memref<3x4xf64>
// CHECK-NEXT:        %[[S:.*]] = arith.select %[[OK]], %[[V]], %{{.*}} : f64
// CHECK-NEXT:        %[[EXP:.*]] = math.exp %[[S]] : f64
// CHECK-NEXT:        loops.store %[[EXP]], %[[OUT]][%[[I]], %[[K]]] : memref<2x3xf64>
// C: const int [[E:v[0-9]+]] = i[i_1];
// C: ((([[E]] >= 0) && ([[E]] < 4)) ? v{{[0-9]+}} : 0.0)
func.func @dynamic_gather(%x: tensor<3x4xf64>, %i: tensor<2x1xi32>) -> tensor<2x3xf64> {
  %0 = array.dynamic_gather %x, %i axes [1] mode "fill" : tensor<3x4xf64>, tensor<2x1xi32> -> tensor<2x3xf64>
  %1 = array.exp %0 : tensor<2x3xf64>
  func.return %1 : tensor<2x3xf64>
}

// A scatter is a buffer rule: the input copied, then one loop over the
// updates in row-major order (so the last of duplicates is written last),
// each combined at its clamped position; a dropped row stores back what it
// found.
// CHECK-LABEL: func.func @scatter
// CHECK-SAME:    (%[[X:.*]]: memref<4x3xf64>, %[[IDX:.*]]: memref<5x1xi64>, %[[V:.*]]: memref<5x3xf64>, %[[OUT:.*]]: memref<4x3xf64>)
// CHECK:         loops.store %{{.*}}, %[[OUT]][%{{.*}}, %{{.*}}] : memref<4x3xf64>
// CHECK:         loops.for %[[B:.*]] = 0 to 5 step 1 {
// CHECK-NEXT:      loops.for %[[R:.*]] = 0 to 3 step 1 {
// CHECK-NEXT:        %[[E:.*]] = loops.load %[[IDX]][%[[B]], %{{.*}}] : memref<5x1xi64>
// CHECK:             %[[OK:.*]] = arith.andi %{{.*}}, %{{.*}} : i1
// CHECK:             %[[P:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK-NEXT:        %[[U:.*]] = loops.load %[[V]][%[[B]], %[[R]]] : memref<5x3xf64>
// CHECK-NEXT:        %[[OLD:.*]] = loops.load %[[OUT]][%[[P]], %[[R]]] : memref<4x3xf64>
// CHECK-NEXT:        %[[SUM:.*]] = arith.addf %[[OLD]], %[[U]] : f64
// CHECK-NEXT:        %[[NEW:.*]] = arith.select %[[OK]], %[[SUM]], %[[OLD]] : f64
// CHECK-NEXT:        loops.store %[[NEW]], %[[OUT]][%[[P]], %[[R]]] : memref<4x3xf64>
func.func @scatter(%x: tensor<4x3xf64>, %i: tensor<5x1xi64>, %v: tensor<5x3xf64>) -> tensor<4x3xf64> {
  %0 = array.scatter %x, %i, %v axes [0] kind "add" mode "drop" : tensor<4x3xf64>, tensor<5x1xi64>, tensor<5x3xf64> -> tensor<4x3xf64>
  func.return %0 : tensor<4x3xf64>
}
