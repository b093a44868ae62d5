// A dense layer: the matmul accumulates into a zeroed temporary; the bias
// broadcast is a remapped load fused into the add that writes the output.
// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s

// CHECK-LABEL: func.func @layer
// CHECK-SAME:    (%[[X:.*]]: memref<2x3xf32>, %[[W:.*]]: memref<3x4xf32>, %[[B:.*]]: memref<4xf32>, %[[OUT:.*]]: memref<2x4xf32>)
// CHECK-SAME:    attributes {loops.num_inputs = 3 : i64}
// CHECK-NEXT:    %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:    %[[ACC:.*]] = loops.alloc "workspace" : memref<2x4xf32>
// CHECK-NEXT:    loops.for %[[I:.*]] = 0 to 2 step 1 {
// CHECK-NEXT:      loops.for %[[J:.*]] = 0 to 4 step 1 {
// CHECK-NEXT:        loops.store %[[ZERO]], %[[ACC]][%[[I]], %[[J]]] : memref<2x4xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:      loops.for %[[K:.*]] = 0 to 3 step 1 {
// CHECK-NEXT:        %[[XV:.*]] = loops.load %[[X]][%[[I]], %[[K]]] : memref<2x3xf32>
// CHECK-NEXT:        loops.for %[[J2:.*]] = 0 to 4 step 1 {
// CHECK-NEXT:          %[[WV:.*]] = loops.load %[[W]][%[[K]], %[[J2]]] : memref<3x4xf32>
// CHECK-NEXT:          %[[P:.*]] = arith.mulf %[[XV]], %[[WV]] : f32
// CHECK-NEXT:          %[[OLD:.*]] = loops.load %[[ACC]][%[[I]], %[[J2]]] : memref<2x4xf32>
// CHECK-NEXT:          %[[NEW:.*]] = arith.addf %[[OLD]], %[[P]] : f32
// CHECK-NEXT:          loops.store %[[NEW]], %[[ACC]][%[[I]], %[[J2]]] : memref<2x4xf32>
// CHECK:         loops.for %[[I3:.*]] = 0 to 2 step 1 {
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
