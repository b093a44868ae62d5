// Every `loops` op round-trips, in its custom form and in the generic form.
// RUN: gradc-opt %s | gradc-opt | filecheck %s
// RUN: gradc-opt %s --print-op-generic | gradc-opt | filecheck %s

// CHECK-LABEL: func.func @add_rows
// CHECK-SAME:    (%[[X:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<8xf32>, %[[OUT:.*]]: memref<4x8xf32>)
// CHECK-SAME:    attributes {loops.num_inputs = 2 : i64}
func.func @add_rows(%x: memref<4x8xf32>, %b: memref<8xf32>, %out: memref<4x8xf32>) attributes {loops.num_inputs = 2 : i64} {
  // CHECK-NEXT: %[[TMP:.*]] = loops.alloc "stack" : memref<4x8xf32>
  // CHECK-NEXT: %[[WS:.*]] = loops.alloc "workspace" : memref<32xf32>
  // CHECK-NEXT: %[[C:.*]] = loops.constant dense<2.000000e+00> : tensor<8xf32> -> memref<8xf32>
  // CHECK-NEXT: %[[V:.*]] = loops.reshape %[[WS]] : memref<32xf32> -> memref<4x8xf32>
  %tmp = loops.alloc "stack" : memref<4x8xf32>
  %ws = loops.alloc "workspace" : memref<32xf32>
  %c = loops.constant dense<2.0> : tensor<8xf32> -> memref<8xf32>
  %v = loops.reshape %ws : memref<32xf32> -> memref<4x8xf32>
  // CHECK-NEXT: loops.for %[[I:.*]] = 0 to 4 step 1 {
  // CHECK-NEXT:   loops.for %[[J:.*]] = 0 to 8 step 1 {
  // CHECK-NEXT:     %[[XV:.*]] = loops.load %[[X]][%[[I]], %[[J]]] : memref<4x8xf32>
  // CHECK-NEXT:     %[[BV:.*]] = loops.load %[[B]][%[[J]]] : memref<8xf32>
  // CHECK-NEXT:     %[[S:.*]] = arith.addf %[[XV]], %[[BV]] : f32
  // CHECK-NEXT:     loops.store %[[S]], %[[OUT]][%[[I]], %[[J]]] : memref<4x8xf32>
  // CHECK-NEXT:   }
  // CHECK-NEXT: }
  loops.for %i = 0 to 4 step 1 {
    loops.for %j = 0 to 8 {
      %xv = loops.load %x[%i, %j] : memref<4x8xf32>
      %bv = loops.load %b[%j] : memref<8xf32>
      %s = arith.addf %xv, %bv : f32
      loops.store %s, %out[%i, %j] : memref<4x8xf32>
    }
  }
  // CHECK-NEXT: loops.for %{{.*}} = 1 to 8 step 3 attributes {unroll = 2 : i64} {
  // CHECK-NEXT: }
  loops.for %k = 1 to 8 step 3 attributes {unroll = 2 : i64} {
  }
  // CHECK-NEXT: func.return
  func.return
}

// Scalars: a 0-d memref is indexed with no indices.
// CHECK-LABEL: func.func @scalar
// CHECK:         %{{.*}} = loops.load %{{.*}}[] : memref<f64>
// CHECK:         loops.store %{{.*}}, %{{.*}}[] {tag} : memref<f64>
func.func @scalar(%x: memref<f64>, %y: memref<f64>) {
  %v = loops.load %x[] : memref<f64>
  loops.store %v, %y[] {tag} : memref<f64>
  func.return
}

// A planned workspace buffer carries its byte offset.
// CHECK-LABEL: func.func @planned
// CHECK-NEXT:    %{{.*}} = loops.alloc "workspace" at 128 : memref<16xf32>
func.func @planned() {
  %a = loops.alloc "workspace" at 128 : memref<16xf32>
  func.return
}

// A parallel loop (what `parallelize` marks) and the thread number inside it.
// CHECK-LABEL: func.func @parallel_rows
// CHECK-NEXT:    loops.for %{{.*}} = 0 to 64 step 16 threads 2 {
// CHECK-NEXT:      %{{.*}} = loops.thread_id : index
func.func @parallel_rows(%out: memref<64xf32>) attributes {loops.num_inputs = 0 : i64} {
  loops.for %i = 0 to 64 step 16 threads 2 {
    %t = loops.thread_id : index
  }
  func.return
}

// A special function upstream `math` lacks.
// CHECK-LABEL: func.func @special
// CHECK-NEXT:    %{{.*}} = loops.special "erfc"(%{{.*}}) : f32
func.func @special(%x: f32) {
  %y = loops.special "erfc"(%x) : f32
  func.return
}
