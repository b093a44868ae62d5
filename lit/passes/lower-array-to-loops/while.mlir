// array.while becomes one loops.while: the initial carry is copied into the
// final carry's output, the cond region computes the condition inline from
// it, the body computes the new carry into a temporary copied back at the
// end of each iteration; max_steps is kept, and in C the count is checked
// after the condition, so exactly max_steps iterations are fine.
// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s
// RUN: gradc-opt %s -p lower-array-to-loops,lower-loops-to-c -t c | filecheck %s --check-prefix=CSRC
// RUN: gradc-opt %s -p lower-array-to-loops | gradc-opt -p lower-loops-to-c -t c | filecheck %s --check-prefix=CSRC
// REQUIRES: c-compiler
// RUN: gradc-opt %s -p lower-array-to-loops,lower-loops-to-c -t c -o %t.c
// RUN: %cc -c %t.c -o %t.o

// CHECK-LABEL: func.func @halve
// CHECK-SAME:    (%[[X0:.*]]: memref<3xf64>, %[[TOL:.*]]: memref<f64>, %[[OUT:.*]]: memref<3xf64>)
// CHECK:         %[[NEW:.*]] = loops.alloc "workspace" : memref<3xf64>
// CHECK:         loops.store %{{.*}}, %[[OUT]][%{{.*}}]
// CHECK:         loops.while max_steps 40 attributes {label = "while_loop at {{.*}}while.mlir:{{[0-9]+}}"} cond {
// CHECK:           loops.load %[[OUT]]
// CHECK:           %[[COND:.*]] = arith.cmpf ogt
// CHECK-NEXT:      loops.condition %[[COND]] : i1
// CHECK-NEXT:    } body {
// CHECK:           loops.store %{{.*}}, %[[NEW]][%{{.*}}]
// CHECK:           loops.store %{{.*}}, %[[OUT]][%{{.*}}]
// CHECK-NEXT:    }

// CSRC:      for (int64_t n = 0;; ++n) {
// CSRC:          if (!(
// CSRC-SAME:     )) break;
// CSRC-NEXT:     if (n >= 40) return 1;
// CSRC:      return 0;
func.func @halve(%x0: tensor<3xf64>, %tol: tensor<f64>) -> tensor<3xf64> {
  %r = array.while max_steps 40 carries(%x = %x0 : tensor<3xf64>) invariants(%t = %tol : tensor<f64>) cond {
    %s = array.reduce_sum %x axes [0] : tensor<3xf64> -> tensor<f64>
    %c = array.compare gt %s, %t : tensor<f64>
    array.condition %c : tensor<i1>
  } body {
  ^bb0(%bx: tensor<3xf64>, %bt: tensor<f64>):
    %half = array.constant dense<0.5> : tensor<3xf64>
    %h = array.mul %bx, %half : tensor<3xf64>
    array.yield %h : tensor<3xf64>
  }
  func.return %r : tensor<3xf64>
}

// Without max_steps: `for (;;)`, no count.
// CSRC-LABEL: int unbounded(
// CSRC:       for (;;) {
// CSRC-NOT:   return 2;
func.func @unbounded(%x0: tensor<f32>) -> tensor<f32> {
  %r = array.while carries(%x = %x0 : tensor<f32>) invariants() cond {
    %one = array.constant dense<1.0> : tensor<f32>
    %c = array.compare gt %x, %one : tensor<f32>
    array.condition %c : tensor<i1>
  } body {
  ^bb0(%bx: tensor<f32>):
    %half = array.constant dense<0.5> : tensor<f32>
    %h = array.mul %bx, %half : tensor<f32>
    array.yield %h : tensor<f32>
  }
  func.return %r : tensor<f32>
}
