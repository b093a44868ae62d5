// Small products: register tiles straight over A and B, no cache blocks and
// no packing. A^T B reads A through its strides (row 1, k 5); the last
// column panel (5 columns, not whole vectors of 4) is first copied into a
// zero-padded edge panel; the last row tile has fewer rows.
// RUN: gradc-opt %s -p 'lower-array-to-loops,tile-matmul{vector-bytes=16 mr=2 nr=8}' | filecheck %s

// CHECK-LABEL: func.func @at_b
// CHECK-SAME:    (%[[X:.*]]: memref<3x5xf32>, %[[W:.*]]: memref<3x13xf32>, %[[OUT:.*]]: memref<5x13xf32>)
// CHECK:         %[[A:.*]] = loops.reshape %[[X]] : memref<3x5xf32> -> memref<15xf32>
// CHECK-NEXT:    %[[B:.*]] = loops.reshape %[[W]] : memref<3x13xf32> -> memref<39xf32>
// CHECK-NEXT:    %[[C:.*]] = loops.reshape %[[OUT]] : memref<5x13xf32> -> memref<65xf32>
// CHECK-NEXT:    %[[EDGE:.*]] = loops.alloc "workspace" : memref<24xf32>
// The edge panel: columns 8..12 of B, then zeros up to 8 columns.
// CHECK-NEXT:    loops.for %[[P:.*]] = 0 to 3 step 1 {
// CHECK:           loops.for %{{.*}} = 0 to 5 step 1 {
// CHECK:             loops.load %[[B]]
// CHECK:             loops.store %{{.*}}, %[[EDGE]]
// CHECK:           loops.for %{{.*}} = 5 to 8 step 1 {
// CHECK:             loops.store %{{.*}}, %[[EDGE]]
// Full column panel: 2 x 8 tiles over rows 0..3, then a 1 x 8 tile.
// CHECK:         loops.for %[[IR:.*]] = 0 to 4 step 2 {
// CHECK:           loops.microkernel %[[A]][%[[IR]]], %[[B]][%{{.*}}], %[[C]][%{{.*}}] {m = 2 : i64, n = 8 : i64, k = 3 : i64, lanes = 4 : i64, a_row_stride = 1 : i64, a_k_stride = 5 : i64, b_k_stride = 13 : i64, c_row_stride = 13 : i64}
// CHECK:         loops.microkernel %[[A]][%{{.*}}], %[[B]][%{{.*}}], %[[C]][%{{.*}}] {m = 1 : i64, n = 8 : i64, k = 3 : i64
// The edge panel: 5 columns, B rows 8 elements apart.
// CHECK:         loops.for %{{.*}} = 0 to 4 step 2 {
// CHECK:           loops.microkernel %[[A]][%{{.*}}], %[[EDGE]][%{{.*}}], %[[C]][%{{.*}}] {m = 2 : i64, n = 5 : i64, k = 3 : i64, lanes = 4 : i64, a_row_stride = 1 : i64, a_k_stride = 5 : i64, b_k_stride = 8 : i64, c_row_stride = 13 : i64}
// CHECK:         loops.microkernel %[[A]][%{{.*}}], %[[EDGE]][%{{.*}}], %[[C]][%{{.*}}] {m = 1 : i64, n = 5 : i64
// CHECK-NOT:     loops.matmul
func.func @at_b(%x: tensor<3x5xf32>, %w: tensor<3x13xf32>) -> tensor<5x13xf32> {
  %xt = array.transpose %x perm [1, 0] : tensor<3x5xf32> -> tensor<5x3xf32>
  %0 = array.matmul %xt, %w : tensor<5x3xf32>, tensor<3x13xf32> -> tensor<5x13xf32>
  func.return %0 : tensor<5x13xf32>
}

// A B^T: B^T is the one operand packed (whole), into panels of 8 columns.
// CHECK-LABEL: func.func @a_bt
// CHECK:         %[[PANELS:.*]] = loops.alloc "workspace" : memref<32xf64>
// CHECK:         loops.microkernel %{{.*}}, %[[PANELS]][%{{.*}}], %{{.*}} {m = 2 : i64, n = 8 : i64, k = 4 : i64, lanes = 2 : i64, a_row_stride = 4 : i64, a_k_stride = 1 : i64, b_k_stride = 8 : i64, c_row_stride = 8 : i64}
// CHECK-NOT:     loops.matmul
func.func @a_bt(%x: tensor<6x4xf64>, %w: tensor<8x4xf64>) -> tensor<6x8xf64> {
  %wt = array.transpose %w perm [1, 0] : tensor<8x4xf64> -> tensor<4x8xf64>
  %0 = array.matmul %x, %wt : tensor<6x4xf64>, tensor<4x8xf64> -> tensor<6x8xf64>
  func.return %0 : tensor<6x8xf64>
}
