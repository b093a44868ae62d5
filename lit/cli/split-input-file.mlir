// With --split-input-file, locations count lines in the whole file, and the
// chunks before an error are still printed.
// RUN: not gradc-opt %s --split-input-file 2>&1 | filecheck %s

// CHECK-NOT: Traceback
// CHECK: func.func @first
func.func @first(%x: tensor<4xf32>) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
}

// -----

func.func @second(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = array.exp %x : tensor<4xf32>
  %1 = array.tanh %0 {tag : tensor<4xf32>
  func.return %1 : tensor<4xf32>
}

// CHECK: split-input-file.mlir:15:27: error: '}' expected
// CHECK-NOT: func.func @second
