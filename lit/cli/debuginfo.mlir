// Every parsed op carries its file:line:col, shown by --print-debuginfo.
// RUN: gradc-opt %s --print-debuginfo | filecheck %s

// CHECK: array.exp %{{.*}} : tensor<4xf32> loc("{{.*}}debuginfo.mlir":[[# @LINE + 3]]:3)
// CHECK: func.return %{{.*}} : tensor<4xf32> loc("{{.*}}debuginfo.mlir":[[# @LINE + 3]]:3)
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = array.exp %x : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
