// expect: dense literals of this element type are not supported
// xDSL cannot pack an i72 dense literal and raised NotImplementedError from the parser (found by gradc.fuzz, seed 11, flip_byte).
func.func @constant_int() -> tensor<2xi32> {
  %0 = array.constant dense<1> : tensor<2xi72>
  func.return %0 : tensor<2xi32>
}
