// array.switch becomes one loops.switch on the index's scalar, a region per
// branch, each branch's nests writing the switch's result buffer (nothing is
// fused across the switch: the add after it reads that buffer). In C, two
// branches are an if/else (only the taken one runs), more a C switch with
// the index clamped below and the last branch as the default. A matmul in
// a branch is tiled and parallelized, its buffers planned and put on the
// stack like any other.
// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s
// RUN: gradc-opt %s -p lower-array-to-loops,lower-loops-to-c -t c | filecheck %s --check-prefix=C
// REQUIRES: c-compiler
// RUN: gradc-opt %s -p 'lower-array-to-loops,tile-matmul,parallelize{threads=2 min-work=1},stack-alloc,plan-memory,lower-loops-to-c' -t c -o %t.c
// RUN: %cc -c %t.c -o %t.o
// RUN: filecheck %s --check-prefix=TILED < %t.c

// CHECK-LABEL: func.func @piecewise
// CHECK-SAME:    (%[[K:.*]]: memref<i32>, %[[X:.*]]: memref<4xf64>, %{{.*}}: memref<4x4xf64>, %[[OUT:.*]]: memref<4xf64>)
// CHECK:         %[[R:.*]] = loops.alloc "workspace" : memref<4xf64>
// CHECK-NEXT:    %[[I:.*]] = loops.load %[[K]][] : memref<i32>
// CHECK-NEXT:    loops.switch %[[I]] : i32 {
// CHECK-NEXT:      loops.for
// CHECK-NEXT:        loops.load %[[X]]
// CHECK-NEXT:        math.sin
// CHECK-NEXT:        loops.store %{{.*}}, %[[R]]
// CHECK-NEXT:      }
// CHECK-NEXT:    }, {
// CHECK-NEXT:      loops.for
// CHECK-NEXT:        loops.load %[[X]]
// CHECK-NEXT:        loops.store %{{.*}}, %[[R]]
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    loops.for
// CHECK-NEXT:      loops.load %[[R]]
// CHECK-NEXT:      loops.load %[[X]]
// CHECK-NEXT:      arith.addf
// CHECK-NEXT:      loops.store %{{.*}}, %[[OUT]]

// C-LABEL: int piecewise(
// C:         const int v0 = k[0];
// C-NEXT:    if (v0 <= 0) {
// C-NEXT:        for (int64_t i = 0; i < 4; ++i) {
// C:                 t0[i] = v2;
// C:         } else {
// C-NEXT:        for (int64_t i = 0; i < 4; ++i) {
// C:                 t0[i] = v1;
// C:             }
// C-NEXT:    }
func.func @piecewise(%k: tensor<i32>, %x: tensor<4xf64>, %w: tensor<4x4xf64>) -> tensor<4xf64> {
  %r = array.switch %k (%x, %w) : (tensor<i32>, tensor<4xf64>, tensor<4x4xf64>) -> (tensor<4xf64>) {
  ^bb0(%a: tensor<4xf64>, %m: tensor<4x4xf64>):
    %y = array.sin %a : tensor<4xf64>
    array.yield %y : tensor<4xf64>
  }, {
  ^bb0(%a: tensor<4xf64>, %m: tensor<4x4xf64>):
    array.yield %a : tensor<4xf64>
  }
  %s = array.add %r, %x : tensor<4xf64>
  func.return %s : tensor<4xf64>
}

// C-LABEL: int three(
// C:         const int64_t v0 = k[0];
// C-NEXT:    switch (v0 < 0 ? 0 : v0) {
// C-NEXT:    case 0: {
// C:             break;
// C-NEXT:    }
// C-NEXT:    case 1: {
// C:             break;
// C-NEXT:    }
// C-NEXT:    default: {
// C:             break;
// C-NEXT:    }
// C-NEXT:    }
// TILED-LABEL: int three(
// TILED:         case 1: {
// TILED:             #pragma omp parallel for
// TILED:             gradc_microkernel_
// TILED:         default: {
func.func @three(%k: tensor<i64>, %a: tensor<16x16xf64>) -> tensor<16x16xf64> {
  %r = array.switch %k (%a) : (tensor<i64>, tensor<16x16xf64>) -> (tensor<16x16xf64>) {
  ^bb0(%m: tensor<16x16xf64>):
    %y = array.tanh %m : tensor<16x16xf64>
    array.yield %y : tensor<16x16xf64>
  }, {
  ^bb0(%m: tensor<16x16xf64>):
    %y = array.matmul %m, %m : tensor<16x16xf64>, tensor<16x16xf64> -> tensor<16x16xf64>
    %z = array.matmul %y, %m : tensor<16x16xf64>, tensor<16x16xf64> -> tensor<16x16xf64>
    array.yield %z : tensor<16x16xf64>
  }, {
  ^bb0(%m: tensor<16x16xf64>):
    %y = array.neg %m : tensor<16x16xf64>
    array.yield %y : tensor<16x16xf64>
  }
  func.return %r : tensor<16x16xf64>
}
