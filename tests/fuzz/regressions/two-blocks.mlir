// expect: has 2 blocks; gradc compiles straight-line functions
// The inliner of differentiate assumed one block and crashed (found by gradc.fuzz, splice_line).
func.func @layer(%x: tensor<24x64xf32>, %w: tensor<64x40xf32>) -> tensor<24x40xf32> {
  %0 = array.matmul %x, %w : tensor<24x64xf32>, tensor<64x40xf32> -> tensor<24x40xf32>
  func.return %0 : tensor<24x40xf32>
  ^bb0(%v: f32, %i: index, %j: index):
}
