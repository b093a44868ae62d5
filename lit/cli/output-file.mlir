// -o writes the result to a file (and only when the run succeeds).
// RUN: rm -f %t.mlir
// RUN: gradc-opt %s -o %t.mlir
// RUN: filecheck %s < %t.mlir
// RUN: rm -f %t.bad.mlir
// RUN: not gradc-opt %s -p no-such-pass -o %t.bad.mlir
// RUN: not test -e %t.bad.mlir

// CHECK: func.func @f(%{{.*}}: tensor<4xf32>) -> tensor<4xf32>
// CHECK:   array.sqrt
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = array.sqrt %x : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
