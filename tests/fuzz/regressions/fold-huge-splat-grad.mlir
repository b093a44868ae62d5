// expect: accepted
// Found by gradc.fuzz (seed 4, input 21153); array-simplify expanded splats of 2^32 elements
// to check and fold them. Was: absurd_dim: exit 1: gradc-opt: error: pass 'array-simplify' crashed: MemoryError: Unable to allocate 32.0 GiB for an array with shape (4294967296,) an
func.func private @f(%x: tensor<4294967296xf64>) -> tensor<f64> {
  %t = array.tanh %x : tensor<4294967296xf64>
  %s = array.reduce_sum %t axes [0] : tensor<4294967296xf64> -> tensor<f64>
  func.return %s : tensor<f64>
}

func.func private @df(%x: tensor<4294967296xf64>) -> tensor<4294967296xf64> {
  %y, %g = autodiff.grad @f(%x) wrt [0] : (tensor<4294967296xf64>) -> (tensor<f64>), (tensor<4294967296xf64>)
  func.return %g : tensor<4294967296xf64>
}


func.func @main(%x: tensor<4294967296xf64>, %v: tensor<4294967296xf64>) -> (tensor<4294967296xf64>, tensor<4294967296xf64>) {
  %g, %hv = autodiff.jvp @df(%x) tangents(%v) wrt [0] : (tensor<4294967296xf64>), (tensor<4294967296xf64>) -> (tensor<4294967296xf64>), (tensor<4294967296xf64>)
  func.return %g, %hv : tensor<4294967296xf64>, tensor<4294967296xf64>
}
