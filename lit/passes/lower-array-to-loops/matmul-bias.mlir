// A dense layer: the matmul is one structured loops.matmul into a temporary;
// the bias broadcast is a remapped load fused into the add that writes the
// output.
// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s

// CHECK-LABEL: func.func @layer
// CHECK-SAME:    (%[[X:.*]]: memref<2x3xf32>, %[[W:.*]]: memref<3x4xf32>, %[[B:.*]]: memref<4xf32>, %[[OUT:.*]]: memref<2x4xf32>)
// CHECK-SAME:    attributes {loops.num_inputs = 3 : i64}
// CHECK-NEXT:    %[[ACC:.*]] = loops.alloc "workspace" : memref<2x4xf32>
// CHECK-NEXT:    loops.matmul %[[X]], %[[W]] into %[[ACC]] : memref<2x3xf32>, memref<3x4xf32> into memref<2x4xf32>
// CHECK-NEXT:    loops.for %[[I3:.*]] = 0 to 2 step 1 {
// CHECK-NEXT:      loops.for %[[J3:.*]] = 0 to 4 step 1 {
// CHECK-NEXT:        %[[MV:.*]] = loops.load %[[ACC]][%[[I3]], %[[J3]]] : memref<2x4xf32>
// CHECK-NEXT:        %[[BV:.*]] = loops.load %[[B]][%[[J3]]] : memref<4xf32>
// CHECK-NEXT:        %[[S:.*]] = arith.addf %[[MV]], %[[BV]] : f32
// CHECK-NEXT:        loops.store %[[S]], %[[OUT]][%[[I3]], %[[J3]]] : memref<2x4xf32>
// CHECK-NOT:   array.
func.func @layer(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  %0 = array.matmul %x, %w : tensor<2x3xf32>, tensor<3x4xf32> -> tensor<2x4xf32>
  %1 = array.broadcast %b dims [1] : tensor<4xf32> -> tensor<2x4xf32>
  %2 = array.add %0, %1 : tensor<2x4xf32>
  func.return %2 : tensor<2x4xf32>
}

// A^T B and A B^T (what the backward pass produces) read the transposed
// operand in place, through the transpose flags.
// CHECK-LABEL: func.func @grads
// CHECK-SAME:    (%[[X:.*]]: memref<2x3xf32>, %[[G:.*]]: memref<2x4xf32>, %[[W:.*]]: memref<3x4xf32>, %[[DW:.*]]: memref<3x4xf32>, %[[DX:.*]]: memref<2x3xf32>)
// CHECK-NEXT:    loops.matmul %[[X]], %[[G]] into %[[DW]] transpose_a : memref<2x3xf32>, memref<2x4xf32> into memref<3x4xf32>
// CHECK-NEXT:    loops.matmul %[[G]], %[[W]] into %[[DX]] transpose_b : memref<2x4xf32>, memref<3x4xf32> into memref<2x3xf32>
// CHECK-NEXT:    func.return
func.func @grads(%x: tensor<2x3xf32>, %g: tensor<2x4xf32>, %w: tensor<3x4xf32>) -> (tensor<3x4xf32>, tensor<2x3xf32>) {
  %xt = array.transpose %x perm [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  %dw = array.matmul %xt, %g : tensor<3x2xf32>, tensor<2x4xf32> -> tensor<3x4xf32>
  %wt = array.transpose %w perm [1, 0] : tensor<3x4xf32> -> tensor<4x3xf32>
  %dx = array.matmul %g, %wt : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
  func.return %dw, %dx : tensor<3x4xf32>, tensor<2x3xf32>
}
