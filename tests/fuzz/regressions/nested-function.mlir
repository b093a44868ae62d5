// expect: is inside another op; functions belong at the top level of the module
// A swapped line put a function inside another's body; lower-array-to-loops crashed on it (found by gradc.fuzz, seed 11, swap_lines).
func.func @identities(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = array.transpose %x perm [0, 1] : tensor<2x3xf32> -> tensor<2x3xf32>
  %1 = array.reshape %0 : tensor<2x3xf32> -> tensor<2x3xf32>
  %2 = array.slice %1 [0:2:1, 0:3:1] : tensor<2x3xf32> -> tensor<2x3xf32>
  %3 = array.neg %2 : tensor<2x3xf32>
  %4 = array.neg %3 : tensor<2x3xf32>
  func.return %4 : tensor<2x3xf32>
}

func.func @chains(%x: tensor<2x3x4xf32>) -> tensor<24xf32> {
  %0 = array.transpose %x perm [1, 2, 0] : tensor<2x3x4xf32> -> tensor<3x4x2xf32>
  %1 = array.transpose %0 perm [1, 2, 0] : tensor<3x4x2xf32> -> tensor<4x2x3xf32>
  %2 = array.reshape %1 : tensor<4x2x3xf32> -> tensor<8x3xf32>
  %3 = array.reshape %2 : tensor<8x3xf32> -> tensor<24xf32>
  func.return %3 : tensor<24xf32>
}
func.func @constant_folding() -> tensor<2xf32> {
func.func @neutral_elements(%x: tensor<4xf64>) -> tensor<4xf64> {
  %zero = array.constant dense<0.0> : tensor<4xf64>
  %one = array.constant dense<1.0> : tensor<4xf64>
  %0 = array.add %x, %zero : tensor<4xf64>
  %1 = array.mul %one, %0 : tensor<4xf64>
  %2 = array.div %1, %one : tensor<4xf64>
  %3 = array.sub %2, %zero : tensor<4xf64>
  func.return %3 : tensor<4xf64>
}


  %a = array.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = array.constant dense<[3.0, 4.0]> : tensor<2xf32>
  %0 = array.add %a, %b : tensor<2xf32>
  %1 = array.reduce_sum %0 axes [] : tensor<2xf32> -> tensor<2xf32>
  func.return %1 : tensor<2xf32>
}

func.func @not_neutral(%x: tensor<4xf32>) -> tensor<4xf32> {
  %two = array.constant dense<2.0> : tensor<4xf32>
  %0 = array.mul %x, %two : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
