// A syntax error is reported at file:line:col with the offending line, on
// stderr, with exit status 1 and no Python traceback.
// RUN: not gradc-opt %s 2>&1 | filecheck %s
// Read from stdin, the file is called <stdin>.
// RUN: not gradc-opt < %s 2>&1 | filecheck %s --check-prefix=STDIN
// RUN: not gradc-opt - < %s 2>&1 | filecheck %s --check-prefix=STDIN

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = array.add %x, : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}

// CHECK-NOT: Traceback
// CHECK:      malformed-input.mlir:9:22: error: operand expected
// CHECK-NEXT:   %0 = array.add %x, : tensor<4xf32>
// CHECK-NEXT:                      ^
// STDIN-NOT: Traceback
// STDIN:      <stdin>:9:22: error: operand expected
