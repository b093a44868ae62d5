// An op that carries its own loc(...) (as IR traced from Python does) is
// reported there, without quoting a line of this file.
// RUN: not gradc-opt %s 2>&1 | filecheck %s

// CHECK-NOT: Traceback
// CHECK:     model.py:12:9: error: array.transpose: [0, 0] is not a permutation of [0, 1]
// CHECK-NOT: array.transpose %x
func.func @f(%x: tensor<4x3xf32>) -> tensor<3x4xf32> {
  %0 = array.transpose %x perm [0, 0] : tensor<4x3xf32> -> tensor<3x4xf32> loc("model.py":12:9)
  func.return %0 : tensor<3x4xf32>
}
