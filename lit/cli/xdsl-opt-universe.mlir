// gradc registers itself as an `xdsl.universe` plugin, so plain xdsl-opt
// parses gradc programs, runs gradc's passes and prints C with the `c` target.
// RUN: xdsl-opt %s | filecheck %s
// RUN: xdsl-opt %s -p array-simplify | filecheck %s --check-prefix=SIMPLIFY
// RUN: xdsl-opt %s -p lower-array-to-loops | filecheck %s --check-prefix=LOOPS
// RUN: xdsl-opt %s -p lower-array-to-loops,lower-loops-to-c -t c | filecheck %s --check-prefix=C

// CHECK:      func.func @f(%[[X:.*]]: tensor<8xf32>) -> tensor<8xf32> {
// CHECK-NEXT:   %[[T:.*]] = array.transpose %[[X]] perm [0] : tensor<8xf32> -> tensor<8xf32>
// CHECK-NEXT:   %[[Y:.*]] = array.tanh %[[T]] : tensor<8xf32>
// CHECK-NEXT:   func.return %[[Y]] : tensor<8xf32>

// SIMPLIFY:      func.func @f(%[[X:.*]]: tensor<8xf32>) -> tensor<8xf32> {
// SIMPLIFY-NEXT:   %[[Y:.*]] = array.tanh %[[X]] : tensor<8xf32>
// SIMPLIFY-NEXT:   func.return %[[Y]] : tensor<8xf32>

// LOOPS:      func.func @f(%[[X:.*]]: memref<8xf32>, %[[OUT:.*]]: memref<8xf32>) attributes {loops.num_inputs = 1 : i64} {
// LOOPS-NEXT:   loops.for %[[I:.*]] = 0 to 8 step 1 {
// LOOPS-NEXT:     %[[V:.*]] = loops.load %[[X]][%[[I]]] : memref<8xf32>
// LOOPS-NEXT:     %[[Y:.*]] = math.tanh %[[V]] : f32
// LOOPS-NEXT:     loops.store %[[Y]], %[[OUT]][%[[I]]] : memref<8xf32>

// C:      int f(const float *restrict x, float *restrict out, void *restrict work) {
// C:          for (int64_t [[I:.*]] = 0; [[I]] < 8; ++[[I]]) {
// C:              tanhf(
// C:      size_t f_work_size(void) {
func.func @f(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = array.transpose %x perm [0] : tensor<8xf32> -> tensor<8xf32>
  %1 = array.tanh %0 : tensor<8xf32>
  func.return %1 : tensor<8xf32>
}
