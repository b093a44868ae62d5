// expect: an array of shape 99999999999x3 has 299999999997 elements
// Was accepted: C with a 1.2 TB workspace (and plan-memory overflowed i64 for larger sizes).
func.func @f(%x: tensor<99999999999x3xf32>) -> tensor<99999999999x3xf32> {
  %0 = array.exp %x : tensor<99999999999x3xf32>
  %1 = array.mul %0, %x : tensor<99999999999x3xf32>
  func.return %1 : tensor<99999999999x3xf32>
}
