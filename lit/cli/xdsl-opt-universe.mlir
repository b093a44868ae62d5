// gradc registers itself as an `xdsl.universe` plugin, so plain xdsl-opt
// parses gradc programs and knows gradc's passes and the `c` target.
// RUN: xdsl-opt %s | filecheck %s
// RUN: xdsl-opt %s -p array-simplify | filecheck %s --check-prefix=PASS

// CHECK:      func.func @f(%[[X:.*]]: tensor<8xf32>) -> tensor<8xf32> {
// CHECK-NEXT:   %[[T:.*]] = array.tanh %[[X]] : tensor<8xf32>
// CHECK-NEXT:   %[[L:.*]] = loops.alloc "stack" : memref<8xf32>
// CHECK-NEXT:   func.return %[[T]] : tensor<8xf32>
func.func @f(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = array.tanh %x : tensor<8xf32>
  %1 = loops.alloc "stack" : memref<8xf32>
  func.return %0 : tensor<8xf32>
}

// A gradc pass run by xdsl-opt: the transpose of a transpose is the input.
// PASS:      func.func @g(%[[Y:.*]]: tensor<2x3xf32>) -> tensor<2x3xf32> {
// PASS-NEXT:   func.return %[[Y]] : tensor<2x3xf32>
func.func @g(%y: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = array.transpose %y perm [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  %1 = array.transpose %0 perm [1, 0] : tensor<3x2xf32> -> tensor<2x3xf32>
  func.return %1 : tensor<2x3xf32>
}
