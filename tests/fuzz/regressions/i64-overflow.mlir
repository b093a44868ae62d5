// expect: over gradc's limit
// plan-memory failed with an i64 overflow message instead of naming the shape.
func.func @f(%x: tensor<18446744073709551616x3xf32>) -> tensor<18446744073709551616x3xf32> {
  %0 = array.exp %x : tensor<18446744073709551616x3xf32>
  func.return %0 : tensor<18446744073709551616x3xf32>
}
