// expect: accepted
// Found by gradc.fuzz (seed 4, input 25235); array-simplify expanded splats of 2^32 elements
// to check and fold them. Was: absurd_dim: exit 1: gradc-opt: error: pass 'array-simplify' crashed: MemoryError: Unable to allocate 32.0 GiB for an array with shape (4294967296,) an
func.func @f(%x: tensor<4294967296xf64>, %w: tensor<4294967296xf64>) -> (tensor<f64>, tensor<4294967296xf64>) {
  %t = array.tanh %x : tensor<4294967296xf64>
  %p = array.mul %t, %x : tensor<4294967296xf64>
  %q = array.mul %p, %w : tensor<4294967296xf64>
  %s = array.reduce_sum %q axes [0] : tensor<4294967296xf64> -> tensor<f64>
  %aux = array.exp %w : tensor<4294967296xf64>
  func.return %s, %aux : tensor<f64>, tensor<4294967296xf64>
}

func.func @main(%x: tensor<4294967296xf64>, %w: tensor<4294967296xf64>, %u: tensor<f64>, %v: tensor<4294967296xf64>) -> (tensor<4294967296xf64>, tensor<4294967296xf64>, tensor<4294967296xf64>) {
  %y, %a, %gx = autodiff.vjp @f(%x, %w) cotangents(%u, %v) wrt [0] : (tensor<4294967296xf64>, tensor<4294967296xf64>), (tensor<f64>, tensor<4294967296xf64>) -> (tensor<f64>, tensor<4294967296xf64>), (tensor<4294967296xf64>)
  %y2, %a2, %g = autodiff.grad @f(%x, %w) wrt [1] : (tensor<4294967296xf64>, tensor<4294967296xf64>) -> (tensor<f64>, tensor<4294967296xf64>), (tensor<4294967296xf64>)
  func.return %gx, %a2, %g : tensor<4294967296xf64>, tensor<4294967296xf64>, tensor<4294967296xf64>
}
