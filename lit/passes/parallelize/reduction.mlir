// A sum over all elements accumulates into one element that every iteration
// writes: it stays serial (parallel partial sums would reassociate it). A
// sum along rows is parallel over the rows: each row's sum is still added
// up in the same order by one thread, and its lane accumulators, allocated
// in the row loop's body, become one slice per thread. A sum along columns
// accumulates each output element across the outer loop (serial); its
// inner loop alone is too little work per fork.
// RUN: gradc-opt %s -p 'lower-array-to-loops,parallelize{threads=2}' | filecheck %s

// CHECK-LABEL: func.func @total
// CHECK-NOT:     threads
// CHECK:         func.return
func.func @total(%x: tensor<512x512xf32>) -> tensor<f32> {
  %0 = array.reduce_sum %x axes [0, 1] : tensor<512x512xf32> -> tensor<f32>
  func.return %0 : tensor<f32>
}

// CHECK-LABEL: func.func @rows
// CHECK:         loops.for %[[R:.*]] = 0 to 512 step 1 threads 2 {
// CHECK-NEXT:      %[[T:.*]] = loops.thread_id : index
// CHECK-NEXT:      %[[LANES:.*]] = arith.constant 64 : index
// CHECK-NEXT:      %[[SLICE:.*]] = arith.muli %[[T]], %[[LANES]] : index
// CHECK-NEXT:      loops.store %{{.*}}, %{{.*}}[%[[R]]]
// CHECK-NEXT:      %[[ACC:.*]] = loops.alloc "workspace" : memref<128xf32>
// CHECK-NEXT:      loops.for %[[L:.*]] = 0 to 64 step 1 {
// CHECK-NEXT:        %[[AT:.*]] = arith.addi %[[L]], %[[SLICE]] : index
// CHECK-NEXT:        loops.store %{{.*}}, %[[ACC]][%[[AT]]] : memref<128xf32>
func.func @rows(%x: tensor<512x512xf32>) -> tensor<512xf32> {
  %0 = array.reduce_sum %x axes [1] : tensor<512x512xf32> -> tensor<512xf32>
  func.return %0 : tensor<512xf32>
}

// CHECK-LABEL: func.func @columns
// CHECK-NOT:     threads
// CHECK:         func.return
func.func @columns(%x: tensor<512x512xf32>) -> tensor<512xf32> {
  %0 = array.reduce_sum %x axes [0] : tensor<512x512xf32> -> tensor<512xf32>
  func.return %0 : tensor<512xf32>
}
