// `-p gradc-default` is the pipeline gradc.jit uses; with `-t c` it turns an
// array program into C. The elementwise chain is one fused loop nest, and the
// C compiles as strict C99.
// RUN: gradc-opt %s -p gradc-default -t c | filecheck %s
// The same, spelled out pass by pass:
// RUN: gradc-opt %s -p array-simplify,factor-broadcasts,canonicalize,cse,dce,lower-array-to-loops,tile-matmul,stack-alloc,plan-memory,lower-loops-to-c -t c | filecheck %s
// REQUIRES: c-compiler
// RUN: gradc-opt %s -p gradc-default -t c -o %t.c
// RUN: %cc -c %t.c -o %t.o

// The matmul is one register tile (tile-matmul), a function of its own ...
// CHECK:      static inline void [[KERNEL:gradc_microkernel_f32x16_2x4x3_a3_1_b4_c4]](const float *restrict a, const float *restrict b, float *restrict c) {
// CHECK:      int layer(const float *restrict x, const float *restrict w, const float *restrict b, float *restrict out, void *restrict work) {
// CHECK-NEXT:     (void)work;
// ... writing straight into the output, ...
// CHECK-NEXT:     [[KERNEL]](x, w, out);
// ... and bias add and tanh are its epilogue, on the tile just written.
// CHECK:          const float [[C:.*]] = out[[[AT:.*]]];
// CHECK-NEXT:     const float [[B:.*]] = b[col];
// CHECK-NEXT:     out[[[AT]]] = gradc_tanhf([[C]] + [[B]]);
// CHECK:          return 0;
// CHECK-NEXT: }
// No workspace: the matmul result has no buffer of its own.
// CHECK:      size_t layer_work_size(void) {
// CHECK-NEXT:     return (size_t)0;
func.func @layer(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  %0 = array.matmul %x, %w : tensor<2x3xf32>, tensor<3x4xf32> -> tensor<2x4xf32>
  %1 = array.broadcast %b dims [1] : tensor<4xf32> -> tensor<2x4xf32>
  %2 = array.add %0, %1 : tensor<2x4xf32>
  %3 = array.tanh %2 : tensor<2x4xf32>
  func.return %3 : tensor<2x4xf32>
}
