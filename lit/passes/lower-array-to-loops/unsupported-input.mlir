// Input the pass cannot lower fails the pass with a message that says why;
// without --verify-diagnostics, that is exit status 1.
// RUN: gradc-opt %s --verify-diagnostics -p lower-array-to-loops | filecheck %s
// RUN: not gradc-opt %s -p lower-array-to-loops 2>&1 | filecheck %s

func.func @g(%x: tensor<4xf32>) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
}

// CHECK-NOT: Traceback
// CHECK: unsupported-input.mlir:[[# @LINE + 2]]:3: error: pass 'lower-array-to-loops' failed: @f: found func.call to @g; inline calls before lowering
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = func.call @g(%x) : (tensor<4xf32>) -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
