// Products with one column (y = A x) or one row (x^T B^T) whose operands run
// along the depth: `dot` tiles hold each row's dot product in vectors along
// k and sum across the lanes at the end, as lanes along a single column
// would leave the tile scalar.
// RUN: gradc-opt %s -p 'lower-array-to-loops,tile-matmul{vector-bytes=64 mr=8 nr=16}' | filecheck %s
// RUN: gradc-opt %s -p 'lower-array-to-loops,tile-matmul{vector-bytes=64 mr=8 nr=16},lower-loops-to-c' -t c | filecheck %s --check-prefix=C

// A x, A's rows along k: tiles of 8 rows over the whole depth, A and x read
// in place.
// CHECK-LABEL: func.func @matvec
// CHECK:         loops.for %[[IR:.*]] = 0 to 64 step 8 {
// CHECK:           loops.microkernel %{{.*}}[%{{.*}}], %{{.*}}[%{{.*}}], %{{.*}}[%[[IR]]] {m = 8 : i64, n = 1 : i64, k = 64 : i64, lanes = 8 : i64, a_row_stride = 64 : i64, a_k_stride = 1 : i64, b_k_stride = 1 : i64, c_row_stride = 1 : i64, dot}
// CHECK-NOT:     loops.alloc
// C-LABEL:     static inline void gradc_microkernel_f64x8_8x1x64_a64_1_b1_c1_dot(
// C:             acc7 += a7 * b0;
// C:             const gradc_f64x8 g0_7 = __builtin_shuffle(g0_5, g0_6, g0_lo4) + __builtin_shuffle(g0_5, g0_6, g0_hi4);
// C-NEXT:        gradc_f64x8 g0 = g0_7;
// C-NEXT:        __builtin_memcpy(c, &g0, sizeof g0);
func.func @matvec(%w: tensor<64x64xf64>, %x: tensor<64x1xf64>) -> tensor<64x1xf64> {
  %0 = array.matmul %w, %x : tensor<64x64xf64>, tensor<64x1xf64> -> tensor<64x1xf64>
  func.return %0 : tensor<64x1xf64>
}

// A^T x: A's columns run along k, so the product is computed as x^T A
// (lanes along the rows of A, depth blocks of 16 rows), no dot tiles.
// CHECK-LABEL: func.func @matvec_t
// CHECK:         loops.microkernel {{.*}} {m = 1 : i64, n = 16 : i64, k = 16 : i64,
// CHECK-NOT:     dot
// CHECK:         func.return
func.func @matvec_t(%w: tensor<64x64xf64>, %x: tensor<64x1xf64>) -> tensor<64x1xf64> {
  %wt = array.transpose %w perm [1, 0] : tensor<64x64xf64> -> tensor<64x64xf64>
  %0 = array.matmul %wt, %x : tensor<64x64xf64>, tensor<64x1xf64> -> tensor<64x1xf64>
  func.return %0 : tensor<64x1xf64>
}

// x^T B^T with B stored [20, 33]: C^T = B x, dot tiles over B's rows read in
// place (8 + 8 + 4 rows), written straight into C; B^T is not packed. 33 is
// four vectors and a scalar tail.
// CHECK-LABEL: func.func @row_times_bt
// CHECK-NOT:     loops.alloc
// CHECK:         loops.microkernel {{.*}} {m = 8 : i64, n = 1 : i64, k = 33 : i64, lanes = 8 : i64, a_row_stride = 33 : i64, a_k_stride = 1 : i64, b_k_stride = 1 : i64, c_row_stride = 1 : i64, dot}
// CHECK:         loops.microkernel {{.*}} {m = 4 : i64, n = 1 : i64, k = 33 : i64, {{.*}} dot}
// C-LABEL:     static inline void gradc_microkernel_f64x8_4x1x33_a33_1_b1_c1_dot(
// C:             for (int64_t p = 32; p < 33; ++p) {
// C-NEXT:            tail0 += a[p] * b[p];
// C-NEXT:            tail1 += a[p + 33] * b[p];
// C:             c[3] = g0[3] + tail3;
func.func @row_times_bt(%x: tensor<1x33xf64>, %b: tensor<20x33xf64>) -> tensor<1x20xf64> {
  %bt = array.transpose %b perm [1, 0] : tensor<20x33xf64> -> tensor<33x20xf64>
  %0 = array.matmul %x, %bt : tensor<1x33xf64>, tensor<33x20xf64> -> tensor<1x20xf64>
  func.return %0 : tensor<1x20xf64>
}
