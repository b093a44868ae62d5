// Reverse mode through array.scan is not implemented yet: a clear error at
// the scan, not a traceback or wrong numbers.
// RUN: gradc-opt %s -p autodiff-reverse --verify-diagnostics | filecheck %s

func.func @f(%x: tensor<3xf64>) -> tensor<3xf64> {
  // CHECK: scan-unsupported.mlir:[[# @LINE + 1]]:3: error: pass 'autodiff-reverse' failed: @f: reverse mode through array.scan is not implemented yet (forward mode is: use jvp or jacfwd)
  %r = array.scan length 10 (%i) carries(%a = %x : tensor<3xf64>) xs() invariants() -> () {
    %e = array.sin %a : tensor<3xf64>
    array.yield %e : tensor<3xf64>
  }
  func.return %r : tensor<3xf64>
}

func.func @main(%x: tensor<3xf64>, %g: tensor<3xf64>) -> tensor<3xf64> {
  %y, %dx = autodiff.vjp @f(%x) cotangents(%g) wrt [0] : (tensor<3xf64>), (tensor<3xf64>) -> (tensor<3xf64>), (tensor<3xf64>)
  func.return %dx : tensor<3xf64>
}
