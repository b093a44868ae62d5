// An elementwise chain becomes one loop nest: every intermediate stays a
// scalar in the loop body, and the result is stored straight into the
// output argument.
// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s

// CHECK-LABEL: func.func @chain
// CHECK-SAME:    (%[[X:.*]]: memref<4x8xf32>, %[[Y:.*]]: memref<4x8xf32>, %[[OUT:.*]]: memref<4x8xf32>)
// CHECK-SAME:    attributes {loops.num_inputs = 2 : i64}
// CHECK-NOT:     loops.alloc
// CHECK:         loops.for %[[I:.*]] = 0 to 4 step 1 {
// CHECK-NEXT:      loops.for %[[J:.*]] = 0 to 8 step 1 {
// CHECK-NEXT:        %[[XV:.*]] = loops.load %[[X]][%[[I]], %[[J]]] : memref<4x8xf32>
// CHECK-NEXT:        %[[YV:.*]] = loops.load %[[Y]][%[[I]], %[[J]]] : memref<4x8xf32>
// CHECK-NEXT:        %[[M:.*]] = arith.mulf %[[XV]], %[[YV]] : f32
// CHECK-NEXT:        %[[A:.*]] = arith.addf %[[M]], %[[XV]] : f32
// CHECK-NEXT:        %[[T:.*]] = math.tanh %[[A]] : f32
// CHECK-NEXT:        loops.store %[[T]], %[[OUT]][%[[I]], %[[J]]] : memref<4x8xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return
// CHECK-NOT:   loops.for
// CHECK:       }
func.func @chain(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = array.mul %x, %y : tensor<4x8xf32>
  %1 = array.add %0, %x : tensor<4x8xf32>
  %2 = array.tanh %1 : tensor<4x8xf32>
  func.return %2 : tensor<4x8xf32>
}

// Transpose and slice are index remaps read inside the consumer's loop.
// CHECK-LABEL: func.func @remaps
// CHECK-SAME:    (%[[X:.*]]: memref<3x4xf32>, %[[OUT:.*]]: memref<2x3xf32>)
// CHECK-NOT:     loops.alloc
// CHECK:         %[[TWO:.*]] = arith.constant 2 : index
// CHECK:         loops.for %[[I:.*]] = 0 to 2 step 1 {
// CHECK-NEXT:      loops.for %[[J:.*]] = 0 to 3 step 1 {
// CHECK-NEXT:        %[[I2:.*]] = arith.muli %[[I]], %[[TWO]] : index
// CHECK-NEXT:        %[[V:.*]] = loops.load %[[X]][%[[J]], %[[I2]]] : memref<3x4xf32>
// CHECK-NEXT:        %[[E:.*]] = math.exp %[[V]] : f32
// CHECK-NEXT:        loops.store %[[E]], %[[OUT]][%[[I]], %[[J]]] : memref<2x3xf32>
func.func @remaps(%x: tensor<3x4xf32>) -> tensor<2x3xf32> {
  %t = array.transpose %x perm [1, 0] : tensor<3x4xf32> -> tensor<4x3xf32>
  %s = array.slice %t [0:4:2, 0:3:1] : tensor<4x3xf32> -> tensor<2x3xf32>
  %e = array.exp %s : tensor<2x3xf32>
  func.return %e : tensor<2x3xf32>
}

// A backward slice is a remap too: index start - i.
// CHECK-LABEL: func.func @reversed
// CHECK-SAME:    (%[[X:.*]]: memref<5xf64>, %[[OUT:.*]]: memref<3xf64>)
// CHECK-NOT:     loops.alloc
// CHECK:         %[[M2:.*]] = arith.constant -2 : index
// CHECK:         %[[FOUR:.*]] = arith.constant 4 : index
// CHECK:         loops.for %[[I:.*]] = 0 to 3 step 1 {
// CHECK-NEXT:      %[[S:.*]] = arith.muli %[[I]], %[[M2]] : index
// CHECK-NEXT:      %[[K:.*]] = arith.addi %[[S]], %[[FOUR]] : index
// CHECK-NEXT:      %[[V:.*]] = loops.load %[[X]][%[[K]]] : memref<5xf64>
// CHECK-NEXT:      %[[E:.*]] = math.exp %[[V]] : f64
// CHECK-NEXT:      loops.store %[[E]], %[[OUT]][%[[I]]] : memref<3xf64>
func.func @reversed(%x: tensor<5xf64>) -> tensor<3xf64> {
  %s = array.slice %x [4:-1:-2] : tensor<5xf64> -> tensor<3xf64>
  %e = array.exp %s : tensor<3xf64>
  func.return %e : tensor<3xf64>
}

// A value used by two ops is computed once, into a temporary.
// CHECK-LABEL: func.func @shared
// CHECK-SAME:    (%[[X:.*]]: memref<4xf64>, %[[B:.*]]: memref<4xf64>, %[[C:.*]]: memref<4xf64>)
// CHECK-NEXT:    %[[TMP:.*]] = loops.alloc "workspace" : memref<4xf64>
// CHECK:         math.exp
// CHECK-NEXT:    loops.store %{{.*}}, %[[TMP]][%{{.*}}] : memref<4xf64>
// CHECK:         %[[A1:.*]] = loops.load %[[TMP]][%{{.*}}] : memref<4xf64>
// CHECK-NEXT:    %[[SQ:.*]] = arith.mulf %[[A1]], %[[A1]] : f64
// CHECK-NEXT:    loops.store %[[SQ]], %[[B]][%{{.*}}] : memref<4xf64>
// CHECK:         %[[A2:.*]] = loops.load %[[TMP]][%{{.*}}] : memref<4xf64>
// CHECK-NEXT:    %[[XV:.*]] = loops.load %[[X]][%{{.*}}] : memref<4xf64>
// CHECK-NEXT:    %[[S:.*]] = arith.addf %[[A2]], %[[XV]] : f64
// CHECK-NEXT:    loops.store %[[S]], %[[C]][%{{.*}}] : memref<4xf64>
func.func @shared(%x: tensor<4xf64>) -> (tensor<4xf64>, tensor<4xf64>) {
  %a = array.exp %x : tensor<4xf64>
  %b = array.mul %a, %a : tensor<4xf64>
  %c = array.add %a, %x : tensor<4xf64>
  func.return %b, %c : tensor<4xf64>, tensor<4xf64>
}
