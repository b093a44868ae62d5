// Each linear-algebra op becomes one loops.linalg over whole buffers: the
// operands' own buffers when they are row-major, else a copy; a solve's
// matrix that is a transposed buffer is read in place with the transpose
// flag flipped (for a triangular solve, also the triangle read); an
// [n, n] scratch buffer where the kind needs one (solve, slogdet, eigh).
// The result goes straight into the output.
// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s

// CHECK-LABEL: func.func @solves
// CHECK-SAME:    (%[[A:.*]]: memref<2x5x5xf32>, %[[B:.*]]: memref<2x5x3xf32>, %[[OUT:.*]]: memref<2x5x5xf32>, %[[OUT1:.*]]: memref<2x5x3xf32>, %[[OUT2:.*]]: memref<2x2xf32>)
// CHECK-NEXT:    loops.linalg "cholesky"(%[[A]], %[[OUT]]) : memref<2x5x5xf32>, memref<2x5x5xf32>
// CHECK-NEXT:    %[[S:.*]] = loops.alloc "workspace" : memref<5x5xf32>
// CHECK-NEXT:    loops.linalg "solve"(%[[A]], %[[B]], %[[OUT1]], %[[S]]) transpose_a : memref<2x5x5xf32>, memref<2x5x3xf32>, memref<2x5x3xf32>, memref<5x5xf32>
// CHECK-NEXT:    %[[S2:.*]] = loops.alloc "workspace" : memref<5x5xf32>
// CHECK-NEXT:    loops.linalg "slogdet"(%[[A]], %[[OUT2]], %[[S2]]) : memref<2x5x5xf32>, memref<2x2xf32>, memref<5x5xf32>
// CHECK-NEXT:    func.return
func.func @solves(%a: tensor<2x5x5xf32>, %b: tensor<2x5x3xf32>) -> (tensor<2x5x5xf32>, tensor<2x5x3xf32>, tensor<2x2xf32>) {
  %l = array.cholesky %a : tensor<2x5x5xf32> -> tensor<2x5x5xf32>
  %t = array.transpose %a perm [0, 2, 1] : tensor<2x5x5xf32> -> tensor<2x5x5xf32>
  %x = array.solve %t, %b : tensor<2x5x5xf32>, tensor<2x5x3xf32> -> tensor<2x5x3xf32>
  %d = array.slogdet %a : tensor<2x5x5xf32> -> tensor<2x2xf32>
  func.return %l, %x, %d : tensor<2x5x5xf32>, tensor<2x5x3xf32>, tensor<2x2xf32>
}

// CHECK-LABEL: func.func @triangular
// CHECK-SAME:    (%[[A:.*]]: memref<4x4xf64>, %[[B:.*]]: memref<4x2xf64>, %[[OUT:.*]]: memref<4x2xf64>, %[[OUT1:.*]]: memref<4x2xf64>)
// CHECK-NEXT:    loops.linalg "triangular_solve"(%[[A]], %[[B]], %[[OUT]]) transpose_a unit_diagonal : memref<4x4xf64>, memref<4x2xf64>, memref<4x2xf64>
// The right-hand side b * b is not a buffer of its own: computed into a copy.
// CHECK:         loops.linalg "triangular_solve"(%[[A]], %{{.*}}, %[[OUT1]]) lower unit_diagonal
func.func @triangular(%a: tensor<4x4xf64>, %b: tensor<4x2xf64>) -> (tensor<4x2xf64>, tensor<4x2xf64>) {
  %t = array.transpose %a perm [1, 0] : tensor<4x4xf64> -> tensor<4x4xf64>
  %x = array.triangular_solve %t, %b lower unit_diagonal : tensor<4x4xf64>, tensor<4x2xf64> -> tensor<4x2xf64>
  %c = array.mul %b, %b : tensor<4x2xf64>
  %y = array.triangular_solve %a, %c lower unit_diagonal : tensor<4x4xf64>, tensor<4x2xf64> -> tensor<4x2xf64>
  func.return %x, %y : tensor<4x2xf64>, tensor<4x2xf64>
}
