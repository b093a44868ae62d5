// array.mirror round-trips, in its custom and its generic form
// (mirror-invalid.mlir: the operands it refuses).
// RUN: gradc-opt %s | gradc-opt | filecheck %s
// RUN: gradc-opt %s --print-op-generic | gradc-opt | filecheck %s

// CHECK-LABEL: func.func @batched
// CHECK-NEXT:    %{{.*}} = array.mirror %x : tensor<2x3x3xf32>
func.func @batched(%x: tensor<2x3x3xf32>) -> tensor<2x3x3xf32> {
  %0 = array.mirror %x : tensor<2x3x3xf32>
  func.return %0 : tensor<2x3x3xf32>
}
