// expect: End of file reached before closing string literal
// Found by gradc.fuzz (seed 5, input 30241), was: flip_byte+swap_lines+change_dim: took over 10.0 s
" %1 = array.tanh %0 {tag : tensor<4xf32>
  %0 = array.exp %x : tensor<4xf32>
func.func @second(%x: tensor<2xf32>) -> tensor<4xf32> {
  func.return %1 : tensor<4xf32>
}
