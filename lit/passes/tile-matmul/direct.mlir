// Small products: register tiles straight over A and B, no cache blocks and
// no packing. Here B is small enough to stay in L1, so tiles go row panel by
// row panel (C written in row order).
// RUN: gradc-opt %s -p 'lower-array-to-loops,tile-matmul{vector-bytes=16 mr=2 nr=8}' | filecheck %s

// A^T B reads A in place through its strides (row 1, k 5). The last column
// tile has 5 columns, held as a vector of 4 and one of 1: it reads B and
// writes C exactly, so nothing is copied or padded. The last row tile has
// one row.
// CHECK-LABEL: func.func @at_b
// CHECK-SAME:    (%[[X:.*]]: memref<3x5xf32>, %[[W:.*]]: memref<3x13xf32>, %[[OUT:.*]]: memref<5x13xf32>)
// CHECK:         %[[A:.*]] = loops.reshape %[[X]] : memref<3x5xf32> -> memref<15xf32>
// CHECK-NEXT:    %[[B:.*]] = loops.reshape %[[W]] : memref<3x13xf32> -> memref<39xf32>
// CHECK-NEXT:    %[[C:.*]] = loops.reshape %[[OUT]] : memref<5x13xf32> -> memref<65xf32>
// CHECK-NEXT:    loops.for %[[IR:.*]] = 0 to 4 step 2 {
// CHECK:           loops.microkernel %[[A]][%[[IR]]], %[[B]][%{{.*}}], %[[C]][%{{.*}}] {m = 2 : i64, n = 8 : i64, k = 3 : i64, lanes = 4 : i64, a_row_stride = 1 : i64, a_k_stride = 5 : i64, b_k_stride = 13 : i64, c_row_stride = 13 : i64}
// CHECK:           loops.microkernel %[[A]][%[[IR]]], %[[B]][%{{.*}}], %[[C]][%{{.*}}] {m = 2 : i64, n = 5 : i64, k = 3 : i64
// CHECK-NEXT:    }
// CHECK-NEXT:    loops.microkernel %[[A]][%{{.*}}], %[[B]][%{{.*}}], %[[C]][%{{.*}}] {m = 1 : i64, n = 8 : i64, k = 3 : i64
// CHECK-NEXT:    loops.microkernel %[[A]][%{{.*}}], %[[B]][%{{.*}}], %[[C]][%{{.*}}] {m = 1 : i64, n = 5 : i64, k = 3 : i64
// CHECK-NEXT:    func.return
// CHECK-NOT:     loops.alloc
func.func @at_b(%x: tensor<3x5xf32>, %w: tensor<3x13xf32>) -> tensor<5x13xf32> {
  %xt = array.transpose %x perm [1, 0] : tensor<3x5xf32> -> tensor<5x3xf32>
  %0 = array.matmul %xt, %w : tensor<5x3xf32>, tensor<3x13xf32> -> tensor<5x13xf32>
  func.return %0 : tensor<5x13xf32>
}

// A B^T: B^T is the one operand packed (whole, and small: on the stack),
// into panels of 8 columns.
// CHECK-LABEL: func.func @a_bt
// CHECK:         %[[PANELS:.*]] = loops.alloc "stack" : memref<32xf64>
// CHECK:         loops.microkernel %{{.*}}, %[[PANELS]][%{{.*}}], %{{.*}} {m = 2 : i64, n = 8 : i64, k = 4 : i64, lanes = 2 : i64, a_row_stride = 4 : i64, a_k_stride = 1 : i64, b_k_stride = 8 : i64, c_row_stride = 8 : i64}
// CHECK-NOT:     loops.matmul
func.func @a_bt(%x: tensor<6x4xf64>, %w: tensor<8x4xf64>) -> tensor<6x8xf64> {
  %wt = array.transpose %w perm [1, 0] : tensor<8x4xf64> -> tensor<4x8xf64>
  %0 = array.matmul %x, %wt : tensor<6x4xf64>, tensor<4x8xf64> -> tensor<6x8xf64>
  func.return %0 : tensor<6x8xf64>
}

// Narrower than a vector (3 columns) but tall, with A stored transposed: C^T
// = op(B)^T op(A)^T instead, tiles of 2 x 8 over A's rows (read in place),
// into a temporary that is then transposed into C.
// CHECK-LABEL: func.func @narrow
// CHECK-SAME:    (%[[X:.*]]: memref<6x20xf32>, %[[W:.*]]: memref<6x3xf32>, %[[OUT:.*]]: memref<20x3xf32>)
// CHECK:         %[[A:.*]] = loops.reshape %[[X]] : memref<6x20xf32> -> memref<120xf32>
// CHECK-NEXT:    %[[B:.*]] = loops.reshape %[[W]] : memref<6x3xf32> -> memref<18xf32>
// CHECK-NEXT:    %[[C:.*]] = loops.reshape %[[OUT]] : memref<20x3xf32> -> memref<60xf32>
// CHECK-NEXT:    %[[T:.*]] = loops.alloc "stack" : memref<60xf32>
// CHECK:         loops.microkernel %[[B]][%{{.*}}], %[[A]][%{{.*}}], %[[T]][%{{.*}}] {m = 2 : i64, n = 8 : i64, k = 6 : i64, lanes = 4 : i64, a_row_stride = 1 : i64, a_k_stride = 3 : i64, b_k_stride = 20 : i64, c_row_stride = 20 : i64}
// CHECK:         loops.for %[[I:.*]] = 0 to 20 step 1 {
// CHECK-NEXT:      loops.for %[[J:.*]] = 0 to 3 step 1 {
// CHECK:             %[[V:.*]] = loops.load %[[T]]
// CHECK:             loops.store %[[V]], %[[C]]
func.func @narrow(%x: tensor<6x20xf32>, %w: tensor<6x3xf32>) -> tensor<20x3xf32> {
  %xt = array.transpose %x perm [1, 0] : tensor<6x20xf32> -> tensor<20x6xf32>
  %0 = array.matmul %xt, %w : tensor<20x6xf32>, tensor<6x3xf32> -> tensor<20x3xf32>
  func.return %0 : tensor<20x3xf32>
}
