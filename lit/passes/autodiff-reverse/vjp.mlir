// autodiff-reverse: autodiff.vjp and autodiff.grad become calls of
// generated private functions: a forward sweep whose SSA values are the tape,
// then the reverse sweep in reverse op order, summing adjoints over fan-out.
// RUN: gradc-opt %s -p autodiff-reverse | filecheck %s

func.func @f(%x: tensor<3xf64>, %w: tensor<3xf64>) -> (tensor<f64>, tensor<3xf64>) {
  %t = array.tanh %x : tensor<3xf64>
  %p = array.mul %t, %x : tensor<3xf64>
  %q = array.mul %p, %w : tensor<3xf64>
  %s = array.reduce_sum %q axes [0] : tensor<3xf64> -> tensor<f64>
  %aux = array.exp %w : tensor<3xf64>
  func.return %s, %aux : tensor<f64>, tensor<3xf64>
}

// CHECK-LABEL: func.func @main
// CHECK-NEXT:    %{{.*}}, %{{.*}}, %[[GX:.*]] = func.call @f_vjp_w0(%x, %w, %u, %v) : (tensor<3xf64>, tensor<3xf64>, tensor<f64>, tensor<3xf64>) -> (tensor<f64>, tensor<3xf64>, tensor<3xf64>)
// CHECK-NEXT:    %{{.*}}, %[[AUX:.*]], %[[GW:.*]] = func.call @f_value_and_grad_w1(%x, %w) : (tensor<3xf64>, tensor<3xf64>) -> (tensor<f64>, tensor<3xf64>, tensor<3xf64>)
// CHECK-NEXT:    func.return %[[GX]], %[[AUX]], %[[GW]]
func.func @main(%x: tensor<3xf64>, %w: tensor<3xf64>, %u: tensor<f64>, %v: tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>, tensor<3xf64>) {
  %y, %a, %gx = autodiff.vjp @f(%x, %w) cotangents(%u, %v) wrt [0] : (tensor<3xf64>, tensor<3xf64>), (tensor<f64>, tensor<3xf64>) -> (tensor<f64>, tensor<3xf64>), (tensor<3xf64>)
  %y2, %a2, %g = autodiff.grad @f(%x, %w) wrt [1] : (tensor<3xf64>, tensor<3xf64>) -> (tensor<f64>, tensor<3xf64>), (tensor<3xf64>)
  func.return %gx, %a2, %g : tensor<3xf64>, tensor<3xf64>, tensor<3xf64>
}

// The forward sweep is the function itself; the reverse sweep reads its
// values %t (tanh' = 1 - t^2 from the result), %x and %w. The cotangent %v
// of %aux = exp(%w) is unused: %w is not in `wrt`, so %aux is inactive.
// %x fans out into tanh and mul: its two adjoint terms are added.
// CHECK-LABEL: func.func private @f_vjp_w0
// CHECK-SAME:    (%[[X:.*]]: tensor<3xf64>, %[[W:.*]]: tensor<3xf64>, %[[U:.*]]: tensor<f64>, %{{.*}}: tensor<3xf64>) -> (tensor<f64>, tensor<3xf64>, tensor<3xf64>)
// CHECK-NEXT:    %[[T:.*]] = array.tanh %[[X]] : tensor<3xf64>
// CHECK-NEXT:    %[[P:.*]] = array.mul %[[T]], %[[X]] : tensor<3xf64>
// CHECK-NEXT:    %[[Q:.*]] = array.mul %[[P]], %[[W]] : tensor<3xf64>
// CHECK-NEXT:    %[[S:.*]] = array.reduce_sum %[[Q]] axes [0] : tensor<3xf64> -> tensor<f64>
// CHECK-NEXT:    %[[AUX:.*]] = array.exp %[[W]] : tensor<3xf64>
// Reverse: reduce_sum's adjoint is a broadcast ...
// CHECK-NEXT:    %[[GQ:.*]] = array.broadcast %[[U]] dims [] : tensor<f64> -> tensor<3xf64>
// ... mul's adjoint (to %p only) ...
// CHECK-NEXT:    %[[GP:.*]] = array.mul %[[GQ]], %[[W]] : tensor<3xf64>
// CHECK-NEXT:    %[[GT:.*]] = array.mul %[[GP]], %[[X]] : tensor<3xf64>
// CHECK-NEXT:    %[[GX1:.*]] = array.mul %[[GP]], %[[T]] : tensor<3xf64>
// ... tanh's, from its result ...
// CHECK-NEXT:    %[[ONE:.*]] = array.constant dense<1.000000e+00> : tensor<3xf64>
// CHECK-NEXT:    %[[T2:.*]] = array.mul %[[T]], %[[T]] : tensor<3xf64>
// CHECK-NEXT:    %[[D:.*]] = array.sub %[[ONE]], %[[T2]] : tensor<3xf64>
// CHECK-NEXT:    %[[GX2:.*]] = array.mul %[[GT]], %[[D]] : tensor<3xf64>
// ... and the fan-out of %x summed.
// CHECK-NEXT:    %[[GX:.*]] = array.add %[[GX1]], %[[GX2]] : tensor<3xf64>
// CHECK-NEXT:    func.return %[[S]], %[[AUX]], %[[GX]] : tensor<f64>, tensor<3xf64>, tensor<3xf64>
// CHECK-NEXT:  }

// grad seeds the scalar output with 1 and the auxiliary output %aux with a
// symbolic zero: exp(%w) is active, yet it costs no reverse work.
// CHECK-LABEL: func.func private @f_value_and_grad_w1
// CHECK-SAME:    (%[[X:.*]]: tensor<3xf64>, %[[W:.*]]: tensor<3xf64>) -> (tensor<f64>, tensor<3xf64>, tensor<3xf64>)
// CHECK-NEXT:    %[[T:.*]] = array.tanh %[[X]]
// CHECK-NEXT:    %[[P:.*]] = array.mul %[[T]], %[[X]]
// CHECK-NEXT:    %[[Q:.*]] = array.mul %[[P]], %[[W]]
// CHECK-NEXT:    %[[S:.*]] = array.reduce_sum %[[Q]]
// CHECK-NEXT:    %[[AUX:.*]] = array.exp %[[W]]
// CHECK-NEXT:    %[[SEED:.*]] = array.constant dense<1.000000e+00> : tensor<f64>
// CHECK-NEXT:    %[[GQ:.*]] = array.broadcast %[[SEED]] dims [] : tensor<f64> -> tensor<3xf64>
// CHECK-NEXT:    %[[GW:.*]] = array.mul %[[GQ]], %[[P]] : tensor<3xf64>
// CHECK-NEXT:    func.return %[[S]], %[[AUX]], %[[GW]] : tensor<f64>, tensor<3xf64>, tensor<3xf64>
// CHECK-NEXT:  }
