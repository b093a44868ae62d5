// Through to C: the tiled function calls one micro-kernel function per
// distinct tile, and the file compiles as strict C99 with warnings as errors.
// RUN: gradc-opt %s -p 'lower-array-to-loops,tile-matmul{vector-bytes=64 mr=8 nr=32},lower-loops-to-c' -t c | filecheck %s
// REQUIRES: c-compiler
// RUN: gradc-opt %s -p 'lower-array-to-loops,tile-matmul{vector-bytes=64 mr=8 nr=32},lower-loops-to-c' -t c -o %t.c
// RUN: %cc -c %t.c -o %t.o

// CHECK:      typedef float gradc_f32x16 __attribute__((vector_size(64)));
// CHECK-NEXT: typedef float gradc_f32x8 __attribute__((vector_size(32)));
// CHECK:      static inline void gradc_microkernel_f32x16_8x32x64_a64_1_b40_c40(const float *restrict a, const float *restrict b, float *restrict c) {
// The last 8 columns: one 8-element vector per row, read from B in place.
// CHECK:      /* C[8 x 8] = A[8 x 64] B[64 x 8]: A strides (row 64, k 1), B row stride 40, C row stride 40; rows in vectors of [8]. */
// CHECK-NEXT: static inline void gradc_microkernel_f32x16_8x8x64_a64_1_b40_c40(const float *restrict a, const float *restrict b, float *restrict c) {
// CHECK:      int layer(const float *restrict x, const float *restrict w, float *restrict out, void *restrict work) {
// CHECK:          for (int64_t ir = 0; ir < 24; ir += 8) {
// CHECK-NEXT:         const int64_t [[A:.*]] = ir * 64;
// CHECK-NEXT:         gradc_microkernel_f32x16_8x32x64_a64_1_b40_c40(x + [[A]], w, out + ir * 40);
// CHECK-NEXT:         gradc_microkernel_f32x16_8x8x64_a64_1_b40_c40(x + [[A]], w + 32, out + (ir * 40 + 32));
// CHECK-NEXT:     }
// CHECK-NOT:  malloc
func.func @layer(%x: tensor<24x64xf32>, %w: tensor<64x40xf32>) -> tensor<24x40xf32> {
  %0 = array.matmul %x, %w : tensor<24x64xf32>, tensor<64x40xf32> -> tensor<24x40xf32>
  func.return %0 : tensor<24x40xf32>
}
