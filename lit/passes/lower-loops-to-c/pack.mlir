// loops.pack in C: a static inline function per distinct block, called with
// the two pointers; the file compiles as strict C99 with warnings as errors.
// RUN: gradc-opt %s -p lower-loops-to-c -t c | filecheck %s
// REQUIRES: c-compiler
// RUN: gradc-opt %s -p lower-loops-to-c -t c -o %t.c
// RUN: %cc -c %t.c -o %t.o

// A pack whose source runs along the depth (A's rows, for panels of A)
// moves 8 x 8 tiles through registers; one whose source runs along the
// lanes (B's rows) is copied row by row, each source row read along once.
// CHECK:      static inline void gradc_transpose_f32(const float *restrict src, int64_t lds, float *restrict dst, int64_t ldd) {
// CHECK:      /* Panels of 8 lanes from a 16 x 24 block (depth stride 1, lane stride 16): dst[(l / 8) * 128 + p * 8 + l % 8] = src[p * 1 + l * 16]. */
// CHECK-NEXT: static inline void gradc_pack_f32_16x24_p8_d1_l16(const float *restrict src, float *restrict dst) {
// CHECK-NEXT:     for (int64_t q = 0; q < 24; q += 8) {
// CHECK-NEXT:         for (int64_t p = 0; p < 16; p += 8) {
// CHECK-NEXT:             for (int64_t l = 0; l < 8; l += 8) {
// CHECK-NEXT:                 gradc_transpose_f32(src + (q + l) * 16 + p, 16, dst + q * 16 + p * 8 + l, 8);
// CHECK:      static inline void gradc_pack_f32_16x20_p8_d20_l1(const float *restrict src, float *restrict dst) {
// CHECK-NEXT:     for (int64_t p = 0; p < 16; ++p) {
// CHECK-NEXT:         for (int64_t q = 0; q < 16; q += 8) {
// CHECK-NEXT:             for (int64_t l = 0; l < 8; ++l) {
// CHECK-NEXT:                 dst[q * 16 + p * 8 + l] = src[p * 20 + q + l];
// The last 4 lanes, a narrower panel.
// CHECK:          for (int64_t p = 0; p < 16; ++p) {
// CHECK-NEXT:         for (int64_t l = 0; l < 4; ++l) {
// CHECK-NEXT:             dst[16 * 16 + p * 8 + l] = src[p * 20 + (16 + l) * 1];
// CHECK-LABEL: int packs(const float *restrict a, const float *restrict b, void *restrict work) {
// CHECK:           gradc_pack_f32_16x24_p8_d1_l16(a, ap);
// CHECK-NEXT:      gradc_pack_f32_16x20_p8_d20_l1(b + 20, bp);
func.func @packs(%a: memref<24x16xf32>, %b: memref<17x20xf32>) attributes {loops.num_inputs = 2 : i64} {
  %zero = arith.constant 0 : index
  %row = arith.constant 20 : index
  %ap = loops.alloc "workspace" : memref<384xf32>
  %bp = loops.alloc "workspace" : memref<384xf32>
  %af = loops.reshape %a : memref<24x16xf32> -> memref<384xf32>
  %bf = loops.reshape %b : memref<17x20xf32> -> memref<340xf32>
  loops.pack %af[%zero] into %ap[%zero] {depth = 16 : i64, width = 24 : i64, panel = 8 : i64, depth_stride = 1 : i64, lane_stride = 16 : i64} : memref<384xf32>, memref<384xf32>
  loops.pack %bf[%row] into %bp[%zero] {depth = 16 : i64, width = 20 : i64, panel = 8 : i64, depth_stride = 20 : i64, lane_stride = 1 : i64} : memref<340xf32>, memref<384xf32>
  func.return
}
