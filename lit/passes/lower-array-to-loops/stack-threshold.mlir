// The stack-threshold option puts small temporaries on the stack; a bad
// value or option name is an error naming the pass, with exit status 1.
// RUN: gradc-opt %s -p 'lower-array-to-loops{stack-threshold=64}' | filecheck %s --check-prefix=STACK
// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s --check-prefix=WORKSPACE
// RUN: not gradc-opt %s -p 'lower-array-to-loops{stack-threshold=-1}' 2>&1 | filecheck %s --check-prefix=NEGATIVE
// RUN: not gradc-opt %s -p 'lower-array-to-loops{stack-limit=64}' 2>&1 | filecheck %s --check-prefix=UNKNOWN

// 4 x f64 = 32 bytes: below 64, above 0.
// STACK:     loops.alloc "stack" : memref<4xf64>
// WORKSPACE: loops.alloc "workspace" : memref<4xf64>
func.func @shared(%x: tensor<4xf64>) -> tensor<4xf64> {
  %a = array.exp %x : tensor<4xf64>
  %b = array.mul %a, %a : tensor<4xf64>
  %c = array.add %b, %a : tensor<4xf64>
  func.return %c : tensor<4xf64>
}

// NEGATIVE-NOT: Traceback
// NEGATIVE: error: pass 'lower-array-to-loops' failed: stack-threshold must be >= 0, got -1
// UNKNOWN-NOT: Traceback
// UNKNOWN: gradc-opt: error: bad options for pass 'lower-array-to-loops': Provided arguments ["stack_limit"] not found
