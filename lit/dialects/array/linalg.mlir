// The linear-algebra ops round-trip (custom and generic forms); each works
// on the last two dimensions, leading ones being batch dimensions. slogdet
// packs (sign, log|det|) in a last dimension of 2, eigh the eigenvalues as
// row 0 above the eigenvectors.
// RUN: gradc-opt %s | gradc-opt | filecheck %s
// RUN: gradc-opt %s --print-op-generic | gradc-opt | filecheck %s

// CHECK-LABEL: func.func @factor
// CHECK-SAME:    (%[[A:.*]]: tensor<2x3x3xf64>, %[[B:.*]]: tensor<2x3x4xf64>)
func.func @factor(%a: tensor<2x3x3xf64>, %b: tensor<2x3x4xf64>) -> (tensor<2x3x4xf64>, tensor<2x3x4xf64>, tensor<2x2xf64>, tensor<2x4x3xf64>) {
  // CHECK-NEXT: %[[L:.*]] = array.cholesky %[[A]] : tensor<2x3x3xf64> -> tensor<2x3x3xf64>
  %l = array.cholesky %a : tensor<2x3x3xf64> -> tensor<2x3x3xf64>
  // CHECK-NEXT: %[[X:.*]] = array.triangular_solve %[[L]], %[[B]] lower transpose_a : tensor<2x3x3xf64>, tensor<2x3x4xf64> -> tensor<2x3x4xf64>
  %x = array.triangular_solve %l, %b lower transpose_a : tensor<2x3x3xf64>, tensor<2x3x4xf64> -> tensor<2x3x4xf64>
  // CHECK-NEXT: %{{.*}} = array.triangular_solve %[[L]], %[[X]] unit_diagonal : tensor<2x3x3xf64>, tensor<2x3x4xf64> -> tensor<2x3x4xf64>
  %u = array.triangular_solve %l, %x unit_diagonal : tensor<2x3x3xf64>, tensor<2x3x4xf64> -> tensor<2x3x4xf64>
  // CHECK-NEXT: %[[Y:.*]] = array.solve %[[A]], %[[B]] transpose_a : tensor<2x3x3xf64>, tensor<2x3x4xf64> -> tensor<2x3x4xf64>
  %y = array.solve %a, %b transpose_a : tensor<2x3x3xf64>, tensor<2x3x4xf64> -> tensor<2x3x4xf64>
  // CHECK-NEXT: %[[D:.*]] = array.slogdet %[[A]] : tensor<2x3x3xf64> -> tensor<2x2xf64>
  %d = array.slogdet %a : tensor<2x3x3xf64> -> tensor<2x2xf64>
  // CHECK-NEXT: %[[E:.*]] = array.eigh %[[A]] : tensor<2x3x3xf64> -> tensor<2x4x3xf64>
  %e = array.eigh %a : tensor<2x3x3xf64> -> tensor<2x4x3xf64>
  func.return %u, %y, %d, %e : tensor<2x3x4xf64>, tensor<2x3x4xf64>, tensor<2x2xf64>, tensor<2x4x3xf64>
}
