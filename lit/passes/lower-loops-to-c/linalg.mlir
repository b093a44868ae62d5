// loops.linalg in C: a call of a static helper, defined once per module per
// kind, flags, n and element type (m and the batch count are arguments), so
// two solves of one size share it. No allocation: scratch comes from the
// caller. The file compiles as strict C99 with warnings as errors.
// RUN: gradc-opt %s -p lower-loops-to-c -t c | filecheck %s
// REQUIRES: c-compiler
// RUN: gradc-opt %s -p lower-loops-to-c -t c -o %t.c
// RUN: %cc -c %t.c -o %t.o

// CHECK:      static inline double gradc_linalg_dot_f64(const double *restrict x, const double *restrict y, int64_t n) {
// CHECK:      static void gradc_cholesky_f64_4(const double *restrict a, double *restrict l, int64_t m, int64_t batch) {
// CHECK:          if (!ok) for (int64_t k = 0; k < 16; k++) L[k] = NAN;
// CHECK:      static void gradc_triangular_solve_lower_transpose_a_f64_4(const double *restrict a, const double *restrict bs, double *restrict x, int64_t m, int64_t batch) {
// CHECK:      static void gradc_solve_f64_4(
// CHECK-NOT:  static void gradc_solve_f64_4(
// CHECK-NOT:  malloc
// CHECK:      gradc_cholesky_f64_4(a, l, 4, 3);
// CHECK-NEXT: gradc_triangular_solve_lower_transpose_a_f64_4(l, b, x, 2, 3);
// CHECK-NEXT: double [[S:[a-z0-9_]+]][16] GRADC_LOCAL_ALIGN;
// CHECK-NEXT: gradc_solve_f64_4(a, b, y, [[S]], 2, 3);
// CHECK-NEXT: gradc_solve_f64_4(a, x, z, [[S]], 2, 3);
func.func @f(%a: memref<3x4x4xf64>, %b: memref<3x4x2xf64>, %l: memref<3x4x4xf64>, %x: memref<3x4x2xf64>, %y: memref<3x4x2xf64>, %z: memref<3x4x2xf64>) attributes {loops.num_inputs = 2 : i64} {
  loops.linalg "cholesky"(%a, %l) : memref<3x4x4xf64>, memref<3x4x4xf64>
  loops.linalg "triangular_solve"(%l, %b, %x) lower transpose_a : memref<3x4x4xf64>, memref<3x4x2xf64>, memref<3x4x2xf64>
  %s = loops.alloc "stack" : memref<4x4xf64>
  loops.linalg "solve"(%a, %b, %y, %s) : memref<3x4x4xf64>, memref<3x4x2xf64>, memref<3x4x2xf64>, memref<4x4xf64>
  loops.linalg "solve"(%a, %x, %z, %s) : memref<3x4x4xf64>, memref<3x4x2xf64>, memref<3x4x2xf64>, memref<4x4xf64>
  func.return
}
