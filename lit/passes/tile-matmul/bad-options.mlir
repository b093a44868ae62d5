// Bad options are user errors (exit status 1, a message naming the option).
// RUN: not gradc-opt %s -p 'lower-array-to-loops,tile-matmul{vector-bytes=32 nr=12}' 2>&1 | filecheck %s --check-prefix=NR
// RUN: not gradc-opt %s -p 'lower-array-to-loops,tile-matmul{kc=0}' 2>&1 | filecheck %s --check-prefix=KC
// NR-NOT: Traceback
// NR: error: pass 'tile-matmul' failed: nr must be a multiple of the vector width (8 elements), got 12
// KC-NOT: Traceback
// KC: error: pass 'tile-matmul' failed: kc must be >= 1, got 0
func.func @mm(%x: tensor<5x20xf32>, %w: tensor<20x6xf32>) -> tensor<5x6xf32> {
  %0 = array.matmul %x, %w : tensor<5x20xf32>, tensor<20x6xf32> -> tensor<5x6xf32>
  func.return %0 : tensor<5x6xf32>
}
