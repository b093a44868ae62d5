// lower-loops-to-c followed by the `c` target: C source that reads like the
// loop nest, and compiles as strict C99.
// RUN: gradc-opt %s -p lower-loops-to-c -t c | filecheck %s
// REQUIRES: c-compiler
// RUN: gradc-opt %s -p lower-loops-to-c -t c -o %t.c
// RUN: %cc -c %t.c -o %t.o

// CHECK:      static inline float gradc_maximum_f32(float a, float b) {
// CHECK-NEXT:     return ((a > b) || (a != a)) ? a : b;
// CHECK-NEXT: }
// CHECK:      int add_rows(const float *restrict x, const float *restrict b, float *restrict out, void *restrict work) {
// CHECK-NEXT:     float tmp[8] GRADC_LOCAL_ALIGN;
// CHECK-NEXT:     float *restrict ws = (float *)work;
// CHECK-NEXT:     for (int64_t j = 0; j < 8; ++j) {
// CHECK-NEXT:         const float bv = b[j];
// CHECK-NEXT:         tmp[j] = gradc_expf(bv);
// CHECK-NEXT:     }
// CHECK-NEXT:     for (int64_t i = 0; i < 4; ++i) {
// CHECK-NEXT:         for (int64_t j = 0; j < 8; ++j) {
// CHECK-NEXT:             const float xv = x[i * 8 + j];
// CHECK-NEXT:             const float bv = tmp[j];
// CHECK-NEXT:             const float m = gradc_maximum_f32(xv + bv, xv);
// CHECK-NEXT:             ws[i * 8 + j] = m;
// CHECK-NEXT:             out[i * 8 + j] = m;
// CHECK-NEXT:         }
// CHECK-NEXT:     }
// CHECK-NEXT:     return 0;
// CHECK-NEXT: }
// CHECK:      size_t add_rows_work_size(void) {
// CHECK-NEXT:     return (size_t)128;
// CHECK-NEXT: }
func.func @add_rows(%x: memref<4x8xf32>, %b: memref<8xf32>, %out: memref<4x8xf32>) attributes {loops.num_inputs = 2 : i64} {
  %tmp = loops.alloc "stack" : memref<8xf32>
  %ws = loops.alloc "workspace" : memref<4x8xf32>
  loops.for %j = 0 to 8 {
    %bv = loops.load %b[%j] : memref<8xf32>
    %e = math.exp %bv : f32
    loops.store %e, %tmp[%j] : memref<8xf32>
  }
  loops.for %i = 0 to 4 {
    loops.for %j = 0 to 8 {
      %xv = loops.load %x[%i, %j] : memref<4x8xf32>
      %bv = loops.load %tmp[%j] : memref<8xf32>
      %s = arith.addf %xv, %bv : f32
      %m = arith.maximumf %s, %xv : f32
      loops.store %m, %ws[%i, %j] : memref<4x8xf32>
      loops.store %m, %out[%i, %j] : memref<4x8xf32>
    }
  }
  func.return
}
