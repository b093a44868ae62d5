// autodiff-forward: each autodiff.jvp becomes a call of a generated private
// function computing primal and tangent in one forward sweep. Only %x is in
// `wrt`: %w has no tangent (a symbolic zero), so the product rule keeps one
// term, and nothing is emitted for zero tangents.
// RUN: gradc-opt %s -p autodiff-forward | filecheck %s

func.func @f(%x: tensor<3xf64>, %w: tensor<3xf64>) -> tensor<f64> {
  %e = array.exp %x : tensor<3xf64>
  %p = array.mul %e, %w : tensor<3xf64>
  %s = array.reduce_sum %p axes [0] : tensor<3xf64> -> tensor<f64>
  func.return %s : tensor<f64>
}

// The request becomes a call with the same operands and results; asking
// twice reuses the one generated function.
// CHECK-LABEL: func.func @main
// CHECK-SAME:    (%[[X:.*]]: tensor<3xf64>, %[[W:.*]]: tensor<3xf64>, %[[DX:.*]]: tensor<3xf64>)
// CHECK-NEXT:    %[[Y:.*]], %[[DY:.*]] = func.call @f_jvp_w0(%[[X]], %[[W]], %[[DX]]) : (tensor<3xf64>, tensor<3xf64>, tensor<3xf64>) -> (tensor<f64>, tensor<f64>)
// CHECK-NEXT:    %{{.*}}, %[[DY2:.*]] = func.call @f_jvp_w0(%[[X]], %[[W]], %[[X]]) :
// CHECK-NEXT:    func.return %[[DY]], %[[DY2]] : tensor<f64>, tensor<f64>
func.func @main(%x: tensor<3xf64>, %w: tensor<3xf64>, %dx: tensor<3xf64>) -> (tensor<f64>, tensor<f64>) {
  %y, %dy = autodiff.jvp @f(%x, %w) tangents(%dx) wrt [0] : (tensor<3xf64>, tensor<3xf64>), (tensor<3xf64>) -> (tensor<f64>), (tensor<f64>)
  %y2, %dy2 = autodiff.jvp @f(%x, %w) tangents(%x) wrt [0] : (tensor<3xf64>, tensor<3xf64>), (tensor<3xf64>) -> (tensor<f64>), (tensor<f64>)
  func.return %dy, %dy2 : tensor<f64>, tensor<f64>
}

// Each primal op is followed by its tangent: exp' is the result itself.
// CHECK-LABEL: func.func private @f_jvp_w0
// CHECK-SAME:    (%[[X:.*]]: tensor<3xf64>, %[[W:.*]]: tensor<3xf64>, %[[DX:.*]]: tensor<3xf64>) -> (tensor<f64>, tensor<f64>)
// CHECK-NEXT:    %[[E:.*]] = array.exp %[[X]] : tensor<3xf64>
// CHECK-NEXT:    %[[DE:.*]] = array.mul %[[DX]], %[[E]] : tensor<3xf64>
// CHECK-NEXT:    %[[P:.*]] = array.mul %[[E]], %[[W]] : tensor<3xf64>
// CHECK-NEXT:    %[[DP:.*]] = array.mul %[[DE]], %[[W]] : tensor<3xf64>
// CHECK-NEXT:    %[[S:.*]] = array.reduce_sum %[[P]] axes [0] : tensor<3xf64> -> tensor<f64>
// CHECK-NEXT:    %[[DS:.*]] = array.reduce_sum %[[DP]] axes [0] : tensor<3xf64> -> tensor<f64>
// CHECK-NEXT:    func.return %[[S]], %[[DS]] : tensor<f64>, tensor<f64>
// CHECK-NEXT:  }
// CHECK-NOT:   func.func
