// autodiff-forward through array.scan: the tangent of the carry becomes an
// extra carry of one new scan (no unrolling), whose body is the JVP of the
// old body; the invariant %w has no tangent, so it gets none. The new scan
// computes the primal result too and replaces the old one.
// RUN: gradc-opt %s -p autodiff-forward | filecheck %s

func.func @f(%x: tensor<3xf64>, %w: tensor<3xf64>) -> tensor<3xf64> {
  %r = array.scan length 10 (%i) carries(%a = %x : tensor<3xf64>) xs() invariants(%v = %w : tensor<3xf64>) -> () {
    %e = array.sin %a : tensor<3xf64>
    %p = array.mul %e, %v : tensor<3xf64>
    array.yield %p : tensor<3xf64>
  }
  func.return %r : tensor<3xf64>
}

func.func @main(%x: tensor<3xf64>, %w: tensor<3xf64>, %dx: tensor<3xf64>) -> tensor<3xf64> {
  %y, %dy = autodiff.jvp @f(%x, %w) tangents(%dx) wrt [0] : (tensor<3xf64>, tensor<3xf64>), (tensor<3xf64>) -> (tensor<3xf64>), (tensor<3xf64>)
  func.return %dy : tensor<3xf64>
}

// CHECK-LABEL: func.func private @f_jvp_w0
// CHECK-SAME:    (%[[X:.*]]: tensor<3xf64>, %[[W:.*]]: tensor<3xf64>, %[[DX:.*]]: tensor<3xf64>)
// CHECK-NEXT:    %[[R:.*]], %[[DR:.*]] = array.scan length 10 (%{{.*}}) carries(%[[A:.*]] = %[[X]] : tensor<3xf64>, %[[DA:.*]] = %[[DX]] : tensor<3xf64>) xs() invariants(%[[V:.*]] = %[[W]] : tensor<3xf64>) -> () {
// CHECK-NEXT:      %[[E:.*]] = array.sin %[[A]] : tensor<3xf64>
// CHECK-NEXT:      %[[C:.*]] = array.cos %[[A]] : tensor<3xf64>
// CHECK-NEXT:      %[[DE:.*]] = array.mul %[[DA]], %[[C]] : tensor<3xf64>
// CHECK-NEXT:      %[[P:.*]] = array.mul %[[E]], %[[V]] : tensor<3xf64>
// CHECK-NEXT:      %[[DP:.*]] = array.mul %[[DE]], %[[V]] : tensor<3xf64>
// CHECK-NEXT:      array.yield %[[P]], %[[DP]] : tensor<3xf64>, tensor<3xf64>
// CHECK-NEXT:    }
// CHECK-NOT:     array.scan
// CHECK:         func.return %[[R]], %[[DR]] : tensor<3xf64>, tensor<3xf64>
