// array.mirror copies the upper triangle of its input across the diagonal,
// reading that triangle only (the indices are min(i, j), max(i, j)). A
// product whose one use is the mirror computes only that triangle
// (`triangle "upper"`); through a transpose, the product's lower one.
// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s

// CHECK-LABEL: func.func @hessian_like
// CHECK-SAME:    (%[[A:.*]]: memref<4x6xf64>, %[[B:.*]]: memref<6x4xf64>, %[[OUT:.*]]: memref<4x4xf64>)
// CHECK-NEXT:    %[[P:.*]] = loops.alloc "workspace" : memref<4x4xf64>
// CHECK-NEXT:    loops.matmul %[[A]], %[[B]] into %[[P]] triangle "upper" : memref<4x6xf64>, memref<6x4xf64> into memref<4x4xf64>
// CHECK-NEXT:    loops.for %[[I:.*]] = 0 to 4 step 1 {
// CHECK-NEXT:      loops.for %[[J:.*]] = 0 to 4 step 1 {
// CHECK-NEXT:        %[[KEEP:.*]] = arith.cmpi sle, %[[I]], %[[J]] : index
// CHECK-NEXT:        %[[LO:.*]] = arith.select %[[KEEP]], %[[I]], %[[J]] : index
// CHECK-NEXT:        %[[HI:.*]] = arith.select %[[KEEP]], %[[J]], %[[I]] : index
// CHECK-NEXT:        %[[V:.*]] = loops.load %[[P]][%[[LO]], %[[HI]]] : memref<4x4xf64>
// CHECK-NEXT:        loops.store %[[V]], %[[OUT]][%[[I]], %[[J]]] : memref<4x4xf64>
func.func @hessian_like(%a: tensor<4x6xf64>, %b: tensor<6x4xf64>) -> tensor<4x4xf64> {
  %p = array.matmul %a, %b : tensor<4x6xf64>, tensor<6x4xf64> -> tensor<4x4xf64>
  %m = array.mirror %p : tensor<4x4xf64>
  func.return %m : tensor<4x4xf64>
}

// The transposed product is read in place: (i, j) of its upper triangle is
// (j, i) of the product's lower one.
// CHECK-LABEL: func.func @transposed
// CHECK:         loops.matmul %{{.*}}, %{{.*}} into %[[P:.*]] triangle "lower"
// CHECK:           %[[LO:.*]] = arith.select
// CHECK-NEXT:      %[[HI:.*]] = arith.select
// CHECK-NEXT:      loops.load %[[P]][%[[HI]], %[[LO]]] : memref<4x4xf64>
func.func @transposed(%a: tensor<4x6xf64>, %b: tensor<6x4xf64>) -> tensor<4x4xf64> {
  %p = array.matmul %a, %b : tensor<4x6xf64>, tensor<6x4xf64> -> tensor<4x4xf64>
  %t = array.transpose %p perm [1, 0] : tensor<4x4xf64> -> tensor<4x4xf64>
  %m = array.mirror %t : tensor<4x4xf64>
  func.return %m : tensor<4x4xf64>
}

// A product used elsewhere too is computed whole.
// CHECK-LABEL: func.func @shared
// CHECK-NEXT:    loops.matmul %a, %b into %out_1 : memref<4x6xf64>, memref<6x4xf64> into memref<4x4xf64>
func.func @shared(%a: tensor<4x6xf64>, %b: tensor<6x4xf64>) -> (tensor<4x4xf64>, tensor<4x4xf64>) {
  %p = array.matmul %a, %b : tensor<4x6xf64>, tensor<6x4xf64> -> tensor<4x4xf64>
  %m = array.mirror %p : tensor<4x4xf64>
  func.return %m, %p : tensor<4x4xf64>, tensor<4x4xf64>
}
