// expect: over gradc's limit of 16777216 (2^24) per constant
// Found by gradc.fuzz (seed 3, input 11336), was: absurd_dim+swap_element_type: exit 1: <stdin>:2:3: error: could not parse this operation: MemoryError: 
func.func @scale(%x: tensor<1000000x512xf32>) -> tensor<1000000x512xf32> {
  %two = array.constant dense<2.0> : tensor<1000000x512xf32>
  %0 = array.mul %x, %two : tensor<1000000x512xf32>
  %1 = array.tanh %0 : tensor<1000000x512xf32>
  func.return %1 : tensor<1000000x512xf32>
}
