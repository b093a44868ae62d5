// A reduction runs in the loop nest of the buffered elementwise producer it
// reads at its own indices: the nest stores each element of the producer
// (still needed elsewhere) and accumulates it. Over trailing axes the
// output's initialization is in the same nest; either way each output
// element sums its inputs in the order it always did.
// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s
// RUN: gradc-opt %s -p "lower-array-to-loops{fuse-reductions=false}" | filecheck %s --check-prefix=UNFUSED

// CHECK-LABEL: func.func @softmax_denominator
// CHECK-SAME:    (%[[X:.*]]: memref<2x3xf32>, %[[M:.*]]: memref<2xf32>, %[[OUT:.*]]: memref<2x3xf32>, %[[SUM:.*]]: memref<2xf32>)
// CHECK:         %[[E:.*]] = loops.alloc "workspace" : memref<2x3xf32>
// CHECK-NEXT:    loops.for %[[I:.*]] = 0 to 2 step 1 {
// CHECK-NEXT:      loops.store %{{.*}}, %[[SUM]][%[[I]]] : memref<2xf32>
// CHECK-NEXT:      loops.for %[[J:.*]] = 0 to 3 step 1 {
// CHECK:             %[[EV:.*]] = math.exp %{{.*}} : f32
// CHECK-NEXT:        loops.store %[[EV]], %[[E]][%[[I]], %[[J]]] : memref<2x3xf32>
// CHECK-NEXT:        %[[ACC:.*]] = loops.load %[[SUM]][%[[I]]] : memref<2xf32>
// CHECK-NEXT:        %[[T:.*]] = arith.addf %[[ACC]], %[[EV]] : f32
// CHECK-NEXT:        loops.store %[[T]], %[[SUM]][%[[I]]] : memref<2xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// The other user of e reads its buffer afterwards.
// CHECK-NEXT:    loops.for
// CHECK-NEXT:      loops.for
// CHECK-NEXT:        loops.load %[[E]]
// UNFUSED-LABEL: func.func @softmax_denominator
// UNFUSED:         math.exp
// UNFUSED-NEXT:    loops.store
// UNFUSED-NEXT:  }
// UNFUSED-NEXT:  }
// UNFUSED-NEXT:  loops.for
func.func @softmax_denominator(%x: tensor<2x3xf32>, %m: tensor<2xf32>) -> (tensor<2x3xf32>, tensor<2xf32>) {
  %mb = array.broadcast %m dims [0] : tensor<2xf32> -> tensor<2x3xf32>
  %d = array.sub %x, %mb : tensor<2x3xf32>
  %e = array.exp %d : tensor<2x3xf32>
  %s = array.reduce_sum %e axes [1] : tensor<2x3xf32> -> tensor<2xf32>
  %n = array.neg %e : tensor<2x3xf32>
  func.return %n, %s : tensor<2x3xf32>, tensor<2xf32>
}

// A sum over a leading axis: initialized first, then accumulated in the
// producer's nest, through an inline negation.
// CHECK-LABEL: func.func @column_sum
// CHECK-SAME:    (%[[X:.*]]: memref<2x3xf32>, %[[Y:.*]]: memref<2x3xf32>, %[[D:.*]]: memref<2x3xf32>, %[[SUM:.*]]: memref<3xf32>)
// CHECK:         loops.for %[[K:.*]] = 0 to 3 step 1 {
// CHECK-NEXT:      loops.store %{{.*}}, %[[SUM]][%[[K]]] : memref<3xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    loops.for %[[I:.*]] = 0 to 2 step 1 {
// CHECK-NEXT:      loops.for %[[J:.*]] = 0 to 3 step 1 {
// CHECK:             %[[DV:.*]] = arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK-NEXT:        loops.store %[[DV]], %[[D]][%[[I]], %[[J]]] : memref<2x3xf32>
// CHECK-NEXT:        %[[ACC:.*]] = loops.load %[[SUM]][%[[J]]] : memref<3xf32>
// CHECK-NEXT:        %[[N:.*]] = arith.negf %[[DV]] : f32
// CHECK-NEXT:        %[[T:.*]] = arith.addf %[[ACC]], %[[N]] : f32
// CHECK-NEXT:        loops.store %[[T]], %[[SUM]][%[[J]]] : memref<3xf32>
func.func @column_sum(%x: tensor<2x3xf32>, %y: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>) {
  %d = array.mul %x, %y : tensor<2x3xf32>
  %nd = array.neg %d : tensor<2x3xf32>
  %s = array.reduce_sum %nd axes [0] : tensor<2x3xf32> -> tensor<3xf32>
  func.return %d, %s : tensor<2x3xf32>, tensor<3xf32>
}

// Near miss: the reduction also reads p transposed, at elements the nest
// has not written yet, so p gets its own nest first.
// CHECK-LABEL: func.func @transposed_read
// CHECK-SAME:    (%{{.*}}: memref<3x3xf32>, %[[P:.*]]: memref<3x3xf32>, %[[R:.*]]: memref<3xf32>)
// CHECK:           math.exp
// CHECK-NEXT:      loops.store %{{.*}}, %[[P]]
// CHECK-NEXT:    }
// CHECK-NEXT:  }
// CHECK-NEXT:  loops.for
// CHECK-NEXT:    loops.store %{{.*}}, %[[R]]
func.func @transposed_read(%x: tensor<3x3xf32>) -> (tensor<3x3xf32>, tensor<3xf32>) {
  %p = array.exp %x : tensor<3x3xf32>
  %pt = array.transpose %p perm [1, 0] : tensor<3x3xf32> -> tensor<3x3xf32>
  %q = array.mul %p, %pt : tensor<3x3xf32>
  %r = array.reduce_sum %q axes [1] : tensor<3x3xf32> -> tensor<3xf32>
  func.return %p, %r : tensor<3x3xf32>, tensor<3xf32>
}
