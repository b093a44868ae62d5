// autodiff.vmap round-trips in its custom and generic forms; its verifier
// checks the batched operand types, the positions and the results.
// RUN: gradc-opt %s | gradc-opt | filecheck %s
// RUN: gradc-opt %s --print-op-generic | gradc-opt | filecheck %s

func.func private @f(%x: tensor<1x3xf64>, %w: tensor<3x4xf64>) -> tensor<1x4xf64> {
  %y = array.matmul %x, %w : tensor<1x3xf64>, tensor<3x4xf64> -> tensor<1x4xf64>
  func.return %y : tensor<1x4xf64>
}

// CHECK-LABEL: func.func @main
// CHECK:         %{{.*}} = autodiff.vmap @f(%{{.*}}, %{{.*}}) batched [0] size 8 : (tensor<8x1x3xf64>, tensor<3x4xf64>) -> (tensor<8x1x4xf64>)
// CHECK:         %{{.*}} = autodiff.vmap @f(%{{.*}}, %{{.*}}) batched [0, 1] size 8 : (tensor<8x1x3xf64>, tensor<8x3x4xf64>) -> (tensor<8x1x4xf64>)
func.func @main(%xs: tensor<8x1x3xf64>, %w: tensor<3x4xf64>, %ws: tensor<8x3x4xf64>) -> (tensor<8x1x4xf64>, tensor<8x1x4xf64>) {
  %a = autodiff.vmap @f(%xs, %w) batched [0] size 8 : (tensor<8x1x3xf64>, tensor<3x4xf64>) -> (tensor<8x1x4xf64>)
  %b = autodiff.vmap @f(%xs, %ws) batched [0, 1] size 8 : (tensor<8x1x3xf64>, tensor<8x3x4xf64>) -> (tensor<8x1x4xf64>)
  func.return %a, %b : tensor<8x1x4xf64>, tensor<8x1x4xf64>
}
