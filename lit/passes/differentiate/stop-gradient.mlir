// differentiate: no derivative flows through array.stop_gradient (the grad of
// sum(x * stop_gradient(x)) is stop_gradient(x) = x, not 2x), and once every
// request is expanded the stop_gradient ops are gone: the identity.
// RUN: gradc-opt %s -p differentiate,array-simplify,canonicalize,cse,dce | filecheck %s
// The op round-trips in its custom and generic forms.
// RUN: gradc-opt %s | gradc-opt | filecheck %s --check-prefix=ROUNDTRIP
// RUN: gradc-opt %s --print-op-generic | gradc-opt | filecheck %s --check-prefix=ROUNDTRIP

func.func private @f(%x: tensor<3xf64>) -> tensor<f64> {
  %c = array.stop_gradient %x : tensor<3xf64>
  %p = array.mul %x, %c : tensor<3xf64>
  %s = array.reduce_sum %p axes [0] : tensor<3xf64> -> tensor<f64>
  func.return %s : tensor<f64>
}

// ROUNDTRIP: array.stop_gradient %{{.*}} : tensor<3xf64>

func.func @main(%x: tensor<3xf64>) -> tensor<3xf64> {
  %y, %g = autodiff.grad @f(%x) wrt [0] : (tensor<3xf64>) -> (tensor<f64>), (tensor<3xf64>)
  func.return %g : tensor<3xf64>
}

// CHECK-LABEL: func.func @main
// CHECK-SAME:    (%[[X:.*]]: tensor<3xf64>)
// CHECK-NOT:     array.stop_gradient
// CHECK-NOT:     array.add
// CHECK:         func.return %[[X]] : tensor<3xf64>
