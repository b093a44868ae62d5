// `--timing` prints, on stderr, the wall time of each step after the run
// (like mlir-opt's --mlir-timing): setup, reading, parsing, every pass in
// pipeline order (a pass that runs twice is listed twice), the checks
// between passes, the target's output, and the total. The figures vary from
// run to run; the shape of the table does not. stdout is what it is without
// the flag.
// RUN: gradc-opt %s -p canonicalize,cse,lower-array-to-loops,tile-matmul,lower-loops-to-c,cse -t c --timing 2>%t.err >%t.timed.c
// RUN: filecheck %s < %t.err
// Without the flag: the same stdout, nothing on stderr.
// RUN: gradc-opt %s -p canonicalize,cse,lower-array-to-loops,tile-matmul,lower-loops-to-c,cse -t c 2>%t.plain.err >%t.plain.c
// RUN: diff %t.plain.c %t.timed.c
// RUN: filecheck %s --check-prefix=QUIET --allow-empty < %t.plain.err

// CHECK:      Execution time report
// CHECK:      Total Execution Time: {{[0-9]+\.[0-9]+}} seconds
// CHECK:      ----Wall Time----  ----Name----
// CHECK-NEXT: {{^ +[0-9]+\.[0-9]{4} \( *[0-9]+\.[0-9]%\)  }}setup (dialects, passes, options)
// CHECK-NEXT: %)  read input
// CHECK-NEXT: %)  parse
// CHECK-NEXT: %)  canonicalize
// CHECK-NEXT: %)  cse
// CHECK-NEXT: %)  lower-array-to-loops
// CHECK-NEXT: %)  tile-matmul
// CHECK-NEXT: %)  lower-loops-to-c
// CHECK-NEXT: %)  cse
// CHECK-NEXT: %)  (verify and checks between passes)
// CHECK-NEXT: %)  output (-t c)
// CHECK:      {{^ +[0-9]+\.[0-9]{4} \(100\.0%\)  }}Total
// CHECK-NOT:  {{.}}

// QUIET-NOT: {{.}}

func.func @layer(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>) -> tensor<2x4xf32> {
  %0 = array.matmul %x, %w : tensor<2x3xf32>, tensor<3x4xf32> -> tensor<2x4xf32>
  %1 = array.tanh %0 : tensor<2x4xf32>
  func.return %1 : tensor<2x4xf32>
}
