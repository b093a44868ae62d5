// expect: a constant of shape 4294967296 has 4294967296 elements
// Found by gradc.fuzz (seed 3, input 353), was: absurd_dim+truncate: exit 1: <stdin>:2:3: error: could not parse this operation: MemoryError: 
func.func @constant_type() {
  %0 = loops.constant dense<1.0> : tensor<4294967296xf32> -> memref<8xf32>
  f