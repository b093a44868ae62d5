// differentiate expands autodiff.vmap like the derivative requests, inner
// ones first: a vmap of a function holding a grad request waits for the
// grad (@per_example), and a grad of a function holding a vmap request
// differentiates the batched function (@of_batch). A batch of vectors
// times unbatched weights is one matrix product (rows folded into M).
// RUN: gradc-opt %s -p differentiate,array-simplify,canonicalize,cse,dce | filecheck %s

func.func private @loss(%w: tensor<3x2xf64>, %x: tensor<1x3xf64>) -> tensor<f64> {
  %y = array.matmul %x, %w : tensor<1x3xf64>, tensor<3x2xf64> -> tensor<1x2xf64>
  %t = array.tanh %y : tensor<1x2xf64>
  %s = array.reduce_sum %t axes [0, 1] : tensor<1x2xf64> -> tensor<f64>
  func.return %s : tensor<f64>
}

func.func private @grad_w(%w: tensor<3x2xf64>, %x: tensor<1x3xf64>) -> tensor<3x2xf64> {
  %s, %g = autodiff.grad @loss(%w, %x) wrt [0] : (tensor<3x2xf64>, tensor<1x3xf64>) -> (tensor<f64>), (tensor<3x2xf64>)
  func.return %g : tensor<3x2xf64>
}

// CHECK-LABEL: func.func @per_example
// CHECK-SAME:    (%[[W:.*]]: tensor<3x2xf64>, %[[XS:.*]]: tensor<5x1x3xf64>)
// CHECK:         %[[X:.*]] = array.reshape %[[XS]] : tensor<5x1x3xf64> -> tensor<5x3xf64>
// CHECK-NEXT:    %{{.*}} = array.matmul %[[X]], %[[W]] : tensor<5x3xf64>, tensor<3x2xf64> -> tensor<5x2xf64>
// CHECK-NOT:     autodiff.
// CHECK-NOT:     func.call
// CHECK:         %[[G:.*]] = array.matmul %{{.*}}, %{{.*}} : tensor<5x3x1xf64>, tensor<5x1x2xf64> -> tensor<5x3x2xf64>
// CHECK-NEXT:    func.return %[[G]] : tensor<5x3x2xf64>
func.func @per_example(%w: tensor<3x2xf64>, %xs: tensor<5x1x3xf64>) -> tensor<5x3x2xf64> {
  %g = autodiff.vmap @grad_w(%w, %xs) batched [1] size 5 : (tensor<3x2xf64>, tensor<5x1x3xf64>) -> (tensor<5x3x2xf64>)
  func.return %g : tensor<5x3x2xf64>
}

func.func private @batch_total(%w: tensor<3x2xf64>, %xs: tensor<5x1x3xf64>) -> tensor<f64> {
  %l = autodiff.vmap @loss(%w, %xs) batched [1] size 5 : (tensor<3x2xf64>, tensor<5x1x3xf64>) -> (tensor<5xf64>)
  %s = array.reduce_sum %l axes [0] : tensor<5xf64> -> tensor<f64>
  func.return %s : tensor<f64>
}

// CHECK-LABEL: func.func @of_batch
// CHECK-NOT:     autodiff.
// CHECK-NOT:     func.call
// CHECK:         array.matmul %{{.*}}, %{{.*}} : tensor<5x3xf64>, tensor<3x2xf64> -> tensor<5x2xf64>
// CHECK:         func.return %{{.*}} : tensor<3x2xf64>
func.func @of_batch(%w: tensor<3x2xf64>, %xs: tensor<5x1x3xf64>) -> tensor<3x2xf64> {
  %s, %g = autodiff.grad @batch_total(%w, %xs) wrt [0] : (tensor<3x2xf64>, tensor<5x1x3xf64>) -> (tensor<f64>), (tensor<3x2xf64>)
  func.return %g : tensor<3x2xf64>
}
