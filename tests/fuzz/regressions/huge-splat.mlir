// expect: over gradc's limit of 4294967296
// xDSL expands a splat to one Python float per element: 10^12 of them.
func.func @f() -> tensor<1000000x1000000xf32> {
  %0 = array.constant dense<1.0> : tensor<1000000x1000000xf32>
  func.return %0 : tensor<1000000x1000000xf32>
}
