// differentiate: every request is expanded, inner ones first (@df holds a
// grad request; the jvp of @df waits for it), then all calls are inlined
// into the public functions and the private ones, now unreferenced, are
// erased: call-free array code, ready for lower-array-to-loops.
// RUN: gradc-opt %s -p differentiate | filecheck %s
// After the default clean-up, the Hessian-vector product of tanh shares
// tanh(x) and 1 - tanh(x)^2 with the gradient, and nothing of the loss
// (its reduce_sum) is computed.
// RUN: gradc-opt %s -p differentiate,array-simplify,canonicalize,cse,dce | filecheck %s --check-prefix=CLEAN

func.func private @f(%x: tensor<3xf64>) -> tensor<f64> {
  %t = array.tanh %x : tensor<3xf64>
  %s = array.reduce_sum %t axes [0] : tensor<3xf64> -> tensor<f64>
  func.return %s : tensor<f64>
}

func.func private @df(%x: tensor<3xf64>) -> tensor<3xf64> {
  %y, %g = autodiff.grad @f(%x) wrt [0] : (tensor<3xf64>) -> (tensor<f64>), (tensor<3xf64>)
  func.return %g : tensor<3xf64>
}

// CHECK-NOT:   func.func private
// CHECK-LABEL: func.func @main
// CHECK-NOT:     func.call
// CHECK-NOT:     autodiff.
// CHECK:         func.return %g, %hv : tensor<3xf64>, tensor<3xf64>
// CHECK-NEXT:  }
// CHECK-NOT:   func.func

// CLEAN-LABEL: func.func @main
// CLEAN-SAME:    (%[[X:.*]]: tensor<3xf64>, %[[V:.*]]: tensor<3xf64>)
// CLEAN-NEXT:    %[[T:.*]] = array.tanh %[[X]] : tensor<3xf64>
// CLEAN-NEXT:    %[[ONE:.*]] = array.constant dense<1.000000e+00> : tensor<3xf64>
// CLEAN-NEXT:    %[[T2:.*]] = array.mul %[[T]], %[[T]] : tensor<3xf64>
// CLEAN-NEXT:    %[[G:.*]] = array.sub %[[ONE]], %[[T2]] : tensor<3xf64>
// CLEAN-NEXT:    %[[DT:.*]] = array.mul %[[V]], %[[G]] : tensor<3xf64>
// CLEAN-NEXT:    %[[P:.*]] = array.mul %[[DT]], %[[T]] : tensor<3xf64>
// CLEAN-NEXT:    %[[S:.*]] = array.add %[[P]], %[[P]] : tensor<3xf64>
// CLEAN-NEXT:    %[[HV:.*]] = array.neg %[[S]] : tensor<3xf64>
// CLEAN-NEXT:    func.return %[[G]], %[[HV]] : tensor<3xf64>, tensor<3xf64>
// CLEAN-NEXT:  }
func.func @main(%x: tensor<3xf64>, %v: tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>) {
  %g, %hv = autodiff.jvp @df(%x) tangents(%v) wrt [0] : (tensor<3xf64>), (tensor<3xf64>) -> (tensor<3xf64>), (tensor<3xf64>)
  func.return %g, %hv : tensor<3xf64>, tensor<3xf64>
}
