// Matrix products in C. An untiled loops.matmul becomes its reference i-k-j
// loop nest (tile-matmul is optional); a loops.microkernel becomes a call of
// a static inline function holding the tile's accumulators in GNU C vectors.
// Both compile as strict C99 with warnings as errors.
// RUN: gradc-opt %s -p lower-loops-to-c -t c | filecheck %s
// REQUIRES: c-compiler
// RUN: gradc-opt %s -p lower-loops-to-c -t c -o %t.c
// RUN: %cc -c %t.c -o %t.o

// The vector type comes first, then one function per distinct tile: 2 rows
// x 5 columns, each row a vector of 4 and a scalar (every access exact).
// Vector loads and stores are memcpy (no alignment assumed, no vector
// crosses a call). Few accumulators: the k steps alternate between two
// sets of them, added at the end. The tile accumulates: its sum starts
// from zero and C is added to it once, at the end (one addition to C per
// depth block, not one per k step).
// CHECK:      typedef float gradc_f32x4 __attribute__((vector_size(16)));
// CHECK-NOT:  gradc_f32x1 __attribute__
// CHECK:      /* C[2 x 5] += A[2 x 3] B[3 x 5]: A strides (row 3, k 1), B row stride 8, C row stride 5; rows in vectors of [4, 1]. */
// CHECK-NEXT: static inline void gradc_microkernel_f32x4_2x5x3_a3_1_b8_c5_acc(const float *restrict a, const float *restrict b, float *restrict c) {
// CHECK-NEXT:     gradc_f32x4 acc0_0_0 = {0};
// CHECK-NEXT:     float acc0_0_1 = 0;
// CHECK-NEXT:     gradc_f32x4 acc0_1_0 = {0};
// CHECK-NEXT:     float acc0_1_1 = 0;
// CHECK-NEXT:     gradc_f32x4 acc1_0_0 = {0};
// CHECK-NEXT:     float acc1_0_1 = 0;
// CHECK-NEXT:     gradc_f32x4 acc1_1_0 = {0};
// CHECK-NEXT:     float acc1_1_1 = 0;
// CHECK-NEXT:     {
// CHECK-NEXT:         gradc_f32x4 b0; __builtin_memcpy(&b0, b, sizeof b0);
// CHECK-NEXT:         float b1 = b[4];
// CHECK-NEXT:         const float a0 = a[0];
// CHECK-NEXT:         acc0_0_0 += a0 * b0;
// CHECK-NEXT:         acc0_0_1 += a0 * b1;
// CHECK-NEXT:         const float a1 = a[3];
// CHECK-NEXT:         acc0_1_0 += a1 * b0;
// CHECK-NEXT:         acc0_1_1 += a1 * b1;
// CHECK-NEXT:     }
// CHECK-NEXT:     {
// CHECK-NEXT:         gradc_f32x4 b0; __builtin_memcpy(&b0, b + 8, sizeof b0);
// CHECK:              acc1_0_0 += a0 * b0;
// CHECK:          acc0_0_0 += acc1_0_0;
// CHECK:          gradc_f32x4 c0_0; __builtin_memcpy(&c0_0, c, sizeof c0_0);
// CHECK-NEXT:     acc0_0_0 = c0_0 + acc0_0_0;
// CHECK:          __builtin_memcpy(c, &acc0_0_0, sizeof acc0_0_0);
// CHECK-NEXT:     c[4] = acc0_0_1;
// CHECK-NEXT:     __builtin_memcpy(c + 5, &acc0_1_0, sizeof acc0_1_0);
// CHECK-NEXT:     c[9] = acc0_1_1;
// CHECK-NEXT: }

// CHECK-LABEL: int tile(const float *restrict a, const float *restrict b, float *restrict c, void *restrict work) {
// CHECK:           for (int64_t q = 0; q < 2; ++q) {
// CHECK-NEXT:          gradc_microkernel_f32x4_2x5x3_a3_1_b8_c5_acc(a + (q + 3), bp, c + q);
func.func @tile(%a: memref<2x4x3xf32>, %b: memref<2x5x3xf32>, %c: memref<2x4x5xf32>) attributes {loops.num_inputs = 2 : i64} {
  %zero = arith.constant 0 : index
  %three = arith.constant 3 : index
  %bp = loops.alloc "workspace" : memref<96xf32>
  %af = loops.reshape %a : memref<2x4x3xf32> -> memref<24xf32>
  %cf = loops.reshape %c : memref<2x4x5xf32> -> memref<40xf32>
  loops.for %q = 0 to 2 step 1 {
    %o = arith.addi %q, %three : index
    loops.microkernel %af[%o], %bp[%zero], %cf[%q] {m = 2 : i64, n = 5 : i64, k = 3 : i64, lanes = 4 : i64, a_row_stride = 3 : i64, a_k_stride = 1 : i64, b_k_stride = 8 : i64, c_row_stride = 5 : i64, accumulate} : memref<24xf32>, memref<96xf32>, memref<40xf32>
  }
  func.return
}

// A B^T without tiling: zero each row of C, then add a[i, k] * b[j, k] along it.
// CHECK-LABEL: int naive(const double *restrict a, const double *restrict b, double *restrict c, void *restrict work) {
// CHECK-NEXT:      (void)work;
// CHECK-NEXT:      for (int64_t i0 = 0; i0 < 4; ++i0) {
// CHECK-NEXT:          for (int64_t i1 = 0; i1 < 5; ++i1) {
// CHECK-NEXT:              c[i0 * 5 + i1] = 0.0;
// CHECK-NEXT:          }
// CHECK-NEXT:          for (int64_t i1 = 0; i1 < 3; ++i1) {
// CHECK-NEXT:              const double v0 = a[i0 * 3 + i1];
// CHECK-NEXT:              for (int64_t i2 = 0; i2 < 5; ++i2) {
// CHECK-NEXT:                  const double v1 = b[i2 * 3 + i1];
// CHECK-NEXT:                  const double v2 = c[i0 * 5 + i2];
// CHECK-NEXT:                  c[i0 * 5 + i2] = v2 + v0 * v1;
func.func @naive(%a: memref<4x3xf64>, %b: memref<5x3xf64>, %c: memref<4x5xf64>) attributes {loops.num_inputs = 2 : i64} {
  loops.matmul %a, %b into %c transpose_b : memref<4x3xf64>, memref<5x3xf64> into memref<4x5xf64>
  func.return
}

// A deep product (k = 300 > 256): each strip of C's row is summed over a
// depth block in a local array, then added to C, so each element of C takes
// one addition per depth block (a block of 256 and one of 44).
// CHECK-LABEL: int deep(const float *restrict a, const float *restrict b, float *restrict c, void *restrict work) {
// CHECK:           float t0[3] GRADC_LOCAL_ALIGN;
// CHECK-NEXT:      for (int64_t i1 = 0; i1 < 3; ++i1) {
// CHECK-NEXT:          t0[i1] = 0.0f;
// CHECK-NEXT:      }
// CHECK-NEXT:      for (int64_t i1 = 0; i1 < 256; ++i1) {
// CHECK:           for (int64_t i1 = 0; i1 < 3; ++i1) {
// CHECK-NEXT:          const float v0 = c[i0 * 3 + i1];
// CHECK-NEXT:          const float v1 = t0[i1];
// CHECK-NEXT:          c[i0 * 3 + i1] = v0 + v1;
// CHECK:           for (int64_t i1 = 0; i1 < 44; ++i1) {
// CHECK-NEXT:          const int64_t v0 = 256 + i1;
// CHECK-NEXT:          const float v1 = a[i0 * 300 + v0];
func.func @deep(%a: memref<2x300xf32>, %b: memref<300x3xf32>, %c: memref<2x3xf32>) attributes {loops.num_inputs = 2 : i64} {
  loops.matmul %a, %b into %c : memref<2x300xf32>, memref<300x3xf32> into memref<2x3xf32>
  func.return
}
