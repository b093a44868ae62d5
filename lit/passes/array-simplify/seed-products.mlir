// array-simplify: a product with a derivative seed (an autodiff.seed
// constant, 0/1 with one 1 per column) is the gather and sum of rows it
// stands for; the identity seed of a vector-mode Jacobian is no op at all.
// A constant without the seed mark keeps its product (NumPy's 0 * inf).
// RUN: gradc-opt %s -p array-simplify | filecheck %s

// CHECK-LABEL: func.func @identity
// CHECK-NEXT:    %[[T:.*]] = array.transpose %x perm [1, 0]
// CHECK-NEXT:    func.return %[[T]]
func.func @identity(%x: tensor<5x3xf64>) -> tensor<3x5xf64> {
  %s = array.constant {autodiff.seed} dense<[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]> : tensor<3x3xf64>
  %t = array.transpose %x perm [1, 0] : tensor<5x3xf64> -> tensor<3x5xf64>
  %p = array.matmul %s, %t : tensor<3x3xf64>, tensor<3x5xf64> -> tensor<3x5xf64>
  func.return %p : tensor<3x5xf64>
}

// Two colors over three inputs: row 0 sums rows 0 and 2 of %x, row 1 is row 1.
// CHECK-LABEL: func.func @colors
// CHECK-NEXT:    %[[Z:.*]] = array.constant dense<0.000000e+00> : tensor<2x4xf64>
// CHECK-NEXT:    %[[G:.*]] = array.gather %x axes [0] indices dense<{{\[\[}}0], [2], [1]]> : tensor<3x1xi32> : tensor<3x4xf64> -> tensor<3x4xf64>
// CHECK-NEXT:    %[[R:.*]] = array.constant dense<{{\[\[}}0], [0], [1]]> : tensor<3x1xi32>
// CHECK-NEXT:    %[[S:.*]] = array.scatter %[[Z]], %[[R]], %[[G]] axes [0] kind "add" mode "clip"
// CHECK-NEXT:    func.return %[[S]]
func.func @colors(%x: tensor<3x4xf64>) -> tensor<2x4xf64> {
  %s = array.constant {autodiff.seed} dense<[[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]> : tensor<2x3xf64>
  %p = array.matmul %s, %x : tensor<2x3xf64>, tensor<3x4xf64> -> tensor<2x4xf64>
  func.return %p : tensor<2x4xf64>
}

// A seed on the right: X @ S = (S^T @ X^T)^T, a column permutation here.
// CHECK-LABEL: func.func @right
// CHECK-NEXT:    %[[T:.*]] = array.transpose %x perm [1, 0]
// CHECK-NEXT:    %[[G:.*]] = array.gather %[[T]] axes [0] indices dense<{{\[\[}}1], [0]]>
// CHECK-NEXT:    %[[B:.*]] = array.transpose %[[G]] perm [1, 0]
// CHECK-NEXT:    func.return %[[B]]
func.func @right(%x: tensor<4x2xf64>) -> tensor<4x2xf64> {
  %s = array.constant {autodiff.seed} dense<[[0.0, 1.0], [1.0, 0.0]]> : tensor<2x2xf64>
  %p = array.matmul %x, %s : tensor<4x2xf64>, tensor<2x2xf64> -> tensor<4x2xf64>
  func.return %p : tensor<4x2xf64>
}

// CHECK-LABEL: func.func @unmarked
// CHECK:         array.matmul
func.func @unmarked(%x: tensor<3x4xf64>) -> tensor<3x4xf64> {
  %s = array.constant dense<[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]> : tensor<3x3xf64>
  %p = array.matmul %s, %x : tensor<3x3xf64>, tensor<3x4xf64> -> tensor<3x4xf64>
  func.return %p : tensor<3x4xf64>
}
