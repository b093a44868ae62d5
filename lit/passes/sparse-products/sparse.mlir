// sparse-products: a product with a constant, mostly-zero matrix becomes a
// gather of the rows its nonzeros read, scaled by their values, summed into
// the output rows by a scatter-add (one table entry per nonzero); a dense
// one with zero rows and columns runs on the rest; a dense one is left alone.
// RUN: gradc-opt %s -p "sparse-products{min_elements=0},dce" | filecheck %s

// W @ x, W = [[0, 2, 0], [0, 0, 0], [3, 0, 0], [0, 0, 0]] (2 nonzeros of 12):
// rows [0, 2], columns [1, 0], values [2, 3].
// CHECK-LABEL: func.func @left
// CHECK-SAME:    (%[[X:.*]]: tensor<3x5xf64>)
// CHECK-NOT:     array.matmul
// CHECK:         %[[G:.*]] = array.gather %[[X]] axes [0] indices dense<{{\[}}[1], [0]]> : tensor<2x1xi32> : tensor<3x5xf64> -> tensor<2x5xf64>
// CHECK-NEXT:    %[[V:.*]] = array.constant dense<[2.000000e+00, 3.000000e+00]> : tensor<2xf64>
// CHECK-NEXT:    %[[B:.*]] = array.broadcast %[[V]] dims [0] : tensor<2xf64> -> tensor<2x5xf64>
// CHECK-NEXT:    %[[T:.*]] = array.mul %[[G]], %[[B]] : tensor<2x5xf64>
// CHECK-NEXT:    %[[Z:.*]] = array.constant dense<0.000000e+00> : tensor<4x5xf64>
// CHECK-NEXT:    %[[I:.*]] = array.constant dense<{{\[}}[0], [2]]> : tensor<2x1xi32>
// CHECK-NEXT:    %[[S:.*]] = array.scatter %[[Z]], %[[I]], %[[T]] axes [0] kind "add" mode "clip"
// CHECK-NEXT:    func.return %[[S]] : tensor<4x5xf64>
func.func @left(%x: tensor<3x5xf64>) -> tensor<4x5xf64> {
  %w = array.constant dense<[[0.0, 2.0, 0.0], [0.0, 0.0, 0.0], [3.0, 0.0, 0.0], [0.0, 0.0, 0.0]]> : tensor<4x3xf64>
  %0 = array.matmul %w, %x : tensor<4x3xf64>, tensor<3x5xf64> -> tensor<4x5xf64>
  func.return %0 : tensor<4x5xf64>
}

// x @ W is (W^T @ x^T)^T, copied row-major by an identity reshape; a
// transposed constant counts as a constant.
// CHECK-LABEL: func.func @right
// CHECK:         %[[XT:.*]] = array.transpose %{{.*}} perm [1, 0] : tensor<5x4xf64> -> tensor<4x5xf64>
// CHECK:         array.gather %[[XT]] axes [0] indices dense<{{\[}}[2], [0]]>
// CHECK:         %[[S:.*]] = array.scatter
// CHECK-NEXT:    %[[Y:.*]] = array.transpose %[[S]] perm [1, 0] : tensor<3x5xf64> -> tensor<5x3xf64>
// CHECK-NEXT:    %[[C:.*]] = array.reshape %[[Y]] : tensor<5x3xf64> -> tensor<5x3xf64>
// CHECK-NEXT:    func.return %[[C]]
func.func @right(%x: tensor<5x4xf64>) -> tensor<5x3xf64> {
  %w = array.constant dense<[[0.0, 2.0, 0.0], [0.0, 0.0, 0.0], [3.0, 0.0, 0.0], [0.0, 0.0, 0.0]]> : tensor<4x3xf64>
  %0 = array.matmul %x, %w : tensor<5x4xf64>, tensor<4x3xf64> -> tensor<5x3xf64>
  func.return %0 : tensor<5x3xf64>
}

// Dense but for a zero row and a zero column (6 of 12 elements left):
// the product runs on the 3x2 block, the zero row set by a scatter.
// CHECK-LABEL: func.func @compact
// CHECK:         %[[G:.*]] = array.gather %{{.*}} axes [0] indices dense<{{\[}}[0], [2]]> : tensor<2x1xi32> : tensor<3x5xf64> -> tensor<2x5xf64>
// CHECK-NEXT:    %[[C:.*]] = array.constant dense<{{\[}}[1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00], [5.000000e+00, 6.000000e+00]]> : tensor<3x2xf64>
// CHECK-NEXT:    %[[P:.*]] = array.matmul %[[C]], %[[G]] : tensor<3x2xf64>, tensor<2x5xf64> -> tensor<3x5xf64>
// CHECK:         array.scatter %{{.*}}, %{{.*}}, %[[P]] axes [0] kind "set" mode "clip"
func.func @compact(%x: tensor<3x5xf64>) -> tensor<4x5xf64> {
  %w = array.constant dense<[[1.0, 0.0, 2.0], [0.0, 0.0, 0.0], [3.0, 0.0, 4.0], [5.0, 0.0, 6.0]]> : tensor<4x3xf64>
  %0 = array.matmul %w, %x : tensor<4x3xf64>, tensor<3x5xf64> -> tensor<4x5xf64>
  func.return %0 : tensor<4x5xf64>
}

// CHECK-LABEL: func.func @dense
// CHECK:         array.matmul
func.func @dense(%x: tensor<3x5xf64>) -> tensor<2x5xf64> {
  %w = array.constant dense<[[1.0, 0.5, 2.0], [0.25, 3.0, 4.0]]> : tensor<2x3xf64>
  %0 = array.matmul %w, %x : tensor<2x3xf64>, tensor<3x5xf64> -> tensor<2x5xf64>
  func.return %0 : tensor<2x5xf64>
}

// (a @ b) * C with C mostly zero: one dot product per nonzero of C,
// a's rows and b's columns (rows of b^T) gathered, scattered into zeros.
// CHECK-LABEL: func.func @sampled
// CHECK-SAME:    (%[[A:.*]]: tensor<4x3xf64>, %[[B:.*]]: tensor<3x4xf64>)
// CHECK-NOT:     array.matmul
// CHECK:         %[[GA:.*]] = array.gather %[[A]] axes [0] indices dense<{{\[}}[0], [2]]>
// CHECK-NEXT:    %[[BT:.*]] = array.transpose %[[B]] perm [1, 0]
// CHECK-NEXT:    %[[GB:.*]] = array.gather %[[BT]] axes [0] indices dense<{{\[}}[1], [0]]>
// CHECK-NEXT:    %[[T:.*]] = array.mul %[[GA]], %[[GB]] : tensor<2x3xf64>
// CHECK-NEXT:    %[[D:.*]] = array.reduce_sum %[[T]] axes [1] : tensor<2x3xf64> -> tensor<2xf64>
// CHECK-NEXT:    %[[V:.*]] = array.constant dense<[2.000000e+00, 3.000000e+00]> : tensor<2xf64>
// CHECK-NEXT:    %[[S:.*]] = array.mul %[[D]], %[[V]] : tensor<2xf64>
// CHECK:         array.scatter %{{.*}}, %{{.*}}, %[[S]] axes [0, 1] kind "set" mode "clip"
func.func @sampled(%a: tensor<4x3xf64>, %b: tensor<3x4xf64>) -> tensor<4x4xf64> {
  %c = array.constant dense<[[0.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [3.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf64>
  %0 = array.matmul %a, %b : tensor<4x3xf64>, tensor<3x4xf64> -> tensor<4x4xf64>
  %1 = array.mul %0, %c : tensor<4x4xf64>
  func.return %1 : tensor<4x4xf64>
}
