// The order of a sum (docs/reductions.md): an innermost reduced dimension
// of 64 or more elements is added in rows to lane accumulators (32 for f64:
// 256 bytes), its tail to the first lanes, then the lanes pairwise into the
// result; a reduced loop of more than 32 iterations is blocked into chunks
// of 16 summed into a fresh accumulator (shaped like the kept dimensions
// inside), each added to the result, and a remainder of at most 16 joins
// the result directly. A reduction over no axes initializes its result
// before adding each element.
// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s

// CHECK-LABEL: func.func @laned
// CHECK-SAME:    (%[[X:.*]]: memref<200xf64>, %[[OUT:.*]]: memref<f64>)
// CHECK:         loops.store %[[ZERO:.*]], %[[OUT]][] : memref<f64>
// CHECK-NEXT:    %[[LANES:.*]] = loops.alloc "workspace" : memref<32xf64>
// CHECK-NEXT:    loops.for %[[L:.*]] = 0 to 32 step 1 {
// CHECK-NEXT:      loops.store %[[ZERO]], %[[LANES]][%[[L]]] : memref<32xf64>
// CHECK-NEXT:    }
// CHECK-NEXT:    loops.for %[[ROW:.*]] = 0 to 6 step 1 {
// CHECK-NEXT:      loops.for %[[LANE:.*]] = 0 to 32 step 1 {
// CHECK-NEXT:        %[[ACC:.*]] = loops.load %[[LANES]][%[[LANE]]] : memref<32xf64>
// CHECK-NEXT:        %[[R:.*]] = arith.muli %[[ROW]], %{{.*}} : index
// CHECK-NEXT:        %[[I:.*]] = arith.addi %[[R]], %[[LANE]] : index
// CHECK-NEXT:        %[[V:.*]] = loops.load %[[X]][%[[I]]] : memref<200xf64>
// CHECK-NEXT:        %[[S:.*]] = arith.addf %[[ACC]], %[[V]] : f64
// CHECK-NEXT:        loops.store %[[S]], %[[LANES]][%[[LANE]]] : memref<32xf64>
// CHECK:         loops.for %{{.*}} = 0 to 8 step 1 {
// CHECK:           %{{.*}} = loops.load %[[X]][%{{.*}}] : memref<200xf64>
// CHECK:         loops.for %{{.*}} = 0 to 16 step 1 {
// CHECK:         loops.for %{{.*}} = 0 to 8 step 1 {
// CHECK:         loops.for %{{.*}} = 0 to 4 step 1 {
// CHECK:         loops.for %{{.*}} = 0 to 2 step 1 {
// CHECK:         }
// CHECK-NEXT:    %{{.*}} = loops.load %[[LANES]][%{{.*}}] : memref<32xf64>
// CHECK-NEXT:    %{{.*}} = loops.load %[[LANES]][%{{.*}}] : memref<32xf64>
// CHECK-NEXT:    %{{.*}} = arith.addf %{{.*}}, %{{.*}} : f64
// CHECK-NEXT:    loops.store %{{.*}}, %[[LANES]][%{{.*}}] : memref<32xf64>
// CHECK-NEXT:    %[[TOTAL:.*]] = loops.load %[[LANES]][%{{.*}}] : memref<32xf64>
// CHECK-NEXT:    %[[OLD:.*]] = loops.load %[[OUT]][] : memref<f64>
// CHECK-NEXT:    %{{.*}} = arith.addf %[[OLD]], %[[TOTAL]] : f64
func.func @laned(%x: tensor<200xf64>) -> tensor<f64> {
  %0 = array.reduce_sum %x axes [0] : tensor<200xf64> -> tensor<f64>
  func.return %0 : tensor<f64>
}

// CHECK-LABEL: func.func @columns
// CHECK-SAME:    (%[[X:.*]]: memref<40x3xf32>, %[[OUT:.*]]: memref<3xf32>)
// CHECK:         %[[CHUNK:.*]] = loops.alloc "workspace" : memref<3xf32>
// CHECK-NEXT:    loops.for %[[J:.*]] = 0 to 2 step 1 {
// CHECK:           loops.for %[[I:.*]] = 0 to 16 step 1 {
// CHECK-NEXT:        loops.for %[[C:.*]] = 0 to 3 step 1 {
// CHECK-NEXT:          %[[ACC:.*]] = loops.load %[[CHUNK]][%[[C]]] : memref<3xf32>
// CHECK:               loops.store %{{.*}}, %[[CHUNK]][%[[C]]] : memref<3xf32>
// CHECK:           loops.for %[[C:.*]] = 0 to 3 step 1 {
// CHECK-NEXT:        %[[PART:.*]] = loops.load %[[CHUNK]][%[[C]]] : memref<3xf32>
// CHECK-NEXT:        %[[OLD:.*]] = loops.load %[[OUT]][%[[C]]] : memref<3xf32>
// CHECK-NEXT:        %{{.*}} = arith.addf %[[OLD]], %[[PART]] : f32
// CHECK:         loops.for %{{.*}} = 0 to 8 step 1 {
// CHECK-NEXT:      loops.for %[[C:.*]] = 0 to 3 step 1 {
// CHECK-NEXT:        %{{.*}} = loops.load %[[OUT]][%[[C]]] : memref<3xf32>
func.func @columns(%x: tensor<40x3xf32>) -> tensor<3xf32> {
  %0 = array.reduce_sum %x axes [0] : tensor<40x3xf32> -> tensor<3xf32>
  func.return %0 : tensor<3xf32>
}

// CHECK-LABEL: func.func @no_axes
// CHECK-SAME:    (%[[X:.*]]: memref<3x4xf32>, %[[OUT:.*]]: memref<3x4xf32>)
// CHECK:         loops.for
// CHECK-NEXT:      loops.for
// CHECK-NEXT:        loops.store %{{.*}}, %[[OUT]][%{{.*}}, %{{.*}}] : memref<3x4xf32>
// CHECK:         loops.for
// CHECK-NEXT:      loops.for
// CHECK-NEXT:        %{{.*}} = loops.load %[[OUT]]
func.func @no_axes(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %0 = array.reduce_sum %x axes [] : tensor<3x4xf32> -> tensor<3x4xf32>
  func.return %0 : tensor<3x4xf32>
}
