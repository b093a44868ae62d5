// expect: a constant of shape 4294967296
// Found by gradc.fuzz (seed 3, input 3099), was: splice_line+absurd_dim: exit 1: <stdin>:3:3: error: could not parse this operation: MemoryError: 
func.func @placement() {
  %0 = loops.alloc "heap" : memref<4xf32>
  %0 = "array.constant"() <{value = dense<1.0> : tensor<4294967296xf32>}> : () -> tensor<3xf32>
  func.return
}
