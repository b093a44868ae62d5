// A reduction initializes its output and accumulates into it, computing its
// elementwise producer inline; over trailing axes each output element is
// initialized inside the nest, right before its inner loop; a reshaped result is written through a view
// of the output, with no copy.
// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s

// CHECK-LABEL: func.func @row_max
// CHECK-SAME:    (%[[X:.*]]: memref<2x3xf32>, %[[OUT:.*]]: memref<2xf32>)
// CHECK-NEXT:    %[[NEG_INF:.*]] = arith.constant 0xff800000 : f32
// CHECK-NEXT:    loops.for %[[I:.*]] = 0 to 2 step 1 {
// CHECK-NEXT:      loops.store %[[NEG_INF]], %[[OUT]][%[[I]]] : memref<2xf32>
// CHECK-NEXT:      loops.for %[[J:.*]] = 0 to 3 step 1 {
// CHECK-NEXT:        %[[ACC:.*]] = loops.load %[[OUT]][%[[I]]] : memref<2xf32>
// CHECK-NEXT:        %[[V:.*]] = loops.load %[[X]][%[[I]], %[[J]]] : memref<2x3xf32>
// CHECK-NEXT:        %[[E:.*]] = math.exp %[[V]] : f32
// CHECK-NEXT:        %[[M:.*]] = arith.maximumf %[[ACC]], %[[E]] : f32
// CHECK-NEXT:        loops.store %[[M]], %[[OUT]][%[[I]]] : memref<2xf32>
func.func @row_max(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  %e = array.exp %x : tensor<2x3xf32>
  %m = array.reduce_max %e axes [1] : tensor<2x3xf32> -> tensor<2xf32>
  func.return %m : tensor<2xf32>
}

// CHECK-LABEL: func.func @flatten
// CHECK-SAME:    (%[[X:.*]]: memref<2x3xf32>, %[[OUT:.*]]: memref<6xf32>)
// CHECK-NEXT:    %[[VIEW:.*]] = loops.reshape %[[OUT]] : memref<6xf32> -> memref<2x3xf32>
// CHECK-NOT:     loops.alloc
// CHECK:         %[[N:.*]] = arith.negf %{{.*}} : f32
// CHECK-NEXT:    loops.store %[[N]], %[[VIEW]][%{{.*}}, %{{.*}}] : memref<2x3xf32>
func.func @flatten(%x: tensor<2x3xf32>) -> tensor<6xf32> {
  %n = array.neg %x : tensor<2x3xf32>
  %r = array.reshape %n : tensor<2x3xf32> -> tensor<6xf32>
  func.return %r : tensor<6xf32>
}
