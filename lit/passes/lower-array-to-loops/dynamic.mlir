// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s
// RUN: gradc-opt %s -p lower-array-to-loops,lower-loops-to-c -t c | filecheck %s --check-prefix=C

// A dynamic slice is read in its consumer's loop at start + i; the start
// is clamped in floats (fmax drops a NaN), then truncated to an index.
// CHECK-LABEL: func.func @dynamic_slice
// CHECK-SAME:    (%[[X:.*]]: memref<5x4xf64>, %[[I:.*]]: memref<f64>, %[[OUT:.*]]: memref<2x4xf64>)
// CHECK-NOT:     loops.alloc
// CHECK:         loops.for %[[R:.*]] = 0 to 2 step 1 {
// CHECK-NEXT:      loops.for %[[COL:.*]] = 0 to 4 step 1 {
// CHECK-NEXT:        %[[S:.*]] = loops.load %[[I]][] : memref<f64>
// CHECK-NEXT:        %[[LO:.*]] = arith.maxnumf %[[S]], %{{.*}} : f64
// CHECK-NEXT:        %[[HI:.*]] = arith.minnumf %[[LO]], %{{.*}} : f64
// CHECK-NEXT:        %[[W:.*]] = arith.fptosi %[[HI]] : f64 to i64
// CHECK-NEXT:        %[[K:.*]] = arith.index_cast %[[W]] : i64 to index
// CHECK-NEXT:        %[[ROW:.*]] = arith.addi %[[R]], %[[K]] : index
// CHECK-NEXT:        %[[V:.*]] = loops.load %[[X]][%[[ROW]], %[[COL]]] : memref<5x4xf64>
// CHECK-NEXT:        %[[E:.*]] = math.exp %[[V]] : f64
// CHECK-NEXT:        loops.store %[[E]], %[[OUT]][%[[R]], %[[COL]]] : memref<2x4xf64>
// C-LABEL: int dynamic_slice(
// C:      const double [[LO:v[0-9]+]] = fmax(v{{[0-9]+}}, 0.0);
// C-NEXT: const double [[HI:v[0-9]+]] = fmin([[LO]], 3.0);
// C-NEXT: x[(i_1 + (int64_t)((int64_t)[[HI]])) * 4 + i_2]
func.func @dynamic_slice(%x: tensor<5x4xf64>, %i: tensor<f64>) -> tensor<2x4xf64> {
  %zero = array.constant dense<0.0> : tensor<f64>
  %s = array.dynamic_slice %x[%i, %zero] sizes [2, 4] : tensor<5x4xf64>, tensor<f64>, tensor<f64> -> tensor<2x4xf64>
  %e = array.exp %s : tensor<2x4xf64>
  func.return %e : tensor<2x4xf64>
}

// A dynamic update copies the input, then stores the update over its window.
// CHECK-LABEL: func.func @dynamic_update_slice
// CHECK-SAME:    (%[[X:.*]]: memref<5xf64>, %[[U:.*]]: memref<2xf64>, %[[I:.*]]: memref<f64>, %[[OUT:.*]]: memref<5xf64>)
// CHECK:         loops.for %[[A:.*]] = 0 to 5 step 1 {
// CHECK-NEXT:      %[[V:.*]] = loops.load %[[X]][%[[A]]] : memref<5xf64>
// CHECK-NEXT:      loops.store %[[V]], %[[OUT]][%[[A]]] : memref<5xf64>
// CHECK:         loops.for %[[B:.*]] = 0 to 2 step 1 {
// CHECK:           %[[K:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK-NEXT:      %[[W:.*]] = loops.load %[[U]][%[[B]]] : memref<2xf64>
// CHECK-NEXT:      %[[P:.*]] = arith.addi %[[B]], %[[K]] : index
// CHECK-NEXT:      loops.store %[[W]], %[[OUT]][%[[P]]] : memref<5xf64>
func.func @dynamic_update_slice(%x: tensor<5xf64>, %u: tensor<2xf64>, %i: tensor<f64>) -> tensor<5xf64> {
  %w = array.dynamic_update_slice %x, %u[%i] : tensor<5xf64>, tensor<2xf64>, tensor<f64> -> tensor<5xf64>
  func.return %w : tensor<5xf64>
}

// A scan's carry updated by a dynamic update (out.at[i].set(v), or .add,
// which reads the same window) is written in place: only the window, no
// copy of the whole carry per step, no temporary.
// CHECK-LABEL: func.func @carry_in_place
// CHECK-SAME:    %[[OUT:[a-z_0-9]+]]: memref<6x3xf64>)
// CHECK-NOT:     loops.alloc "workspace" : memref<6x3xf64>
// CHECK:         loops.for %{{.*}} = 0 to 6 step 1 {
// CHECK-NOT:     loops.alloc "workspace" : memref<6x3xf64>
// CHECK:         loops.load %[[OUT]][%{{.*}}, %{{.*}}] : memref<6x3xf64>
// CHECK-NOT:     loops.alloc "workspace" : memref<6x3xf64>
// CHECK:         loops.store %{{.*}}, %[[OUT]][%{{.*}}, %{{.*}}] : memref<6x3xf64>
// CHECK-NEXT:    }
// CHECK-NEXT:  }
// CHECK-NEXT:  func.return
func.func @carry_in_place(%init: tensor<6x3xf64>, %xs: tensor<6x3xf64>) -> tensor<6x3xf64> {
  %c = array.scan length 6 (%i) carries(%a = %init : tensor<6x3xf64>) xs(%x = %xs : tensor<6x3xf64>) invariants() -> () {
    %zero = array.constant dense<0.0> : tensor<f64>
    %row = array.reshape %x : tensor<3xf64> -> tensor<1x3xf64>
    %old = array.dynamic_slice %a[%i, %zero] sizes [1, 3] : tensor<6x3xf64>, tensor<f64>, tensor<f64> -> tensor<1x3xf64>
    %new = array.add %old, %row : tensor<1x3xf64>
    %b = array.dynamic_update_slice %a, %new[%i, %zero] : tensor<6x3xf64>, tensor<1x3xf64>, tensor<f64>, tensor<f64> -> tensor<6x3xf64>
    array.yield %b : tensor<6x3xf64>
  }
  func.return %c : tensor<6x3xf64>
}

// Read at another window (row i - 1), the carry is not updated in place.
// CHECK-LABEL: func.func @carry_copied
// CHECK:         loops.alloc "workspace" : memref<6x3xf64>
func.func @carry_copied(%init: tensor<6x3xf64>, %shift: tensor<f64>) -> tensor<6x3xf64> {
  %c = array.scan length 6 (%i) carries(%a = %init : tensor<6x3xf64>) xs() invariants(%s = %shift : tensor<f64>) -> () {
    %zero = array.constant dense<0.0> : tensor<f64>
    %prev = array.sub %i, %s : tensor<f64>
    %old = array.dynamic_slice %a[%prev, %zero] sizes [1, 3] : tensor<6x3xf64>, tensor<f64>, tensor<f64> -> tensor<1x3xf64>
    %b = array.dynamic_update_slice %a, %old[%i, %zero] : tensor<6x3xf64>, tensor<1x3xf64>, tensor<f64>, tensor<f64> -> tensor<6x3xf64>
    array.yield %b : tensor<6x3xf64>
  }
  func.return %c : tensor<6x3xf64>
}
