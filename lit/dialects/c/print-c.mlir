// The `c` target spells each op in C: restrict pointers, `static const` data,
// workspace slices, a pragma before its loop, pure single-use expressions
// inlined into their user. The result compiles as strict C99.
// RUN: gradc-opt %s -t c | filecheck %s
// REQUIRES: c-compiler
// RUN: gradc-opt %s -t c -o %t.c
// RUN: %cc -c %t.c -o %t.o

// CHECK:      #include <math.h>
// CHECK:      int scale(const float *restrict in, float *restrict out, void *restrict work) {
// CHECK-NEXT:     static const float k[2] = {2.0f, 3.0f};
// CHECK-NEXT:     float *restrict t = (float *)((char *)work + 16);
// CHECK-NEXT:     #pragma GCC ivdep
// CHECK-NEXT:     for (int64_t i = 0; i < 2; ++i) {
// CHECK-NEXT:         const float x = in[i];
// CHECK-NEXT:         const float kv = k[i];
// CHECK-NEXT:         const float e = expf(x * kv);
// CHECK-NEXT:         t[i] = e;
// CHECK-NEXT:         out[i] = (x < 0.0f) ? -x : x;
// CHECK-NEXT:     }
// CHECK-NEXT:     return 0;
// CHECK-NEXT: }
c.func @scale(%in: !c.ptr<const f32 restrict>, %out: !c.ptr<f32 restrict>, %work: !c.ptr<void restrict>) -> i32 {
  %k = c.static_array dense<[2.0, 3.0]> : tensor<2xf32> -> !c.ptr<const f32>
  %t = c.byte_offset %work + 16 : !c.ptr<void restrict> -> !c.ptr<f32 restrict>
  %zero = c.literal 0.0 : f32
  c.pragma "GCC ivdep"
  c.for %i = 0 to 2 step 1 {
    %x = c.load %in[%i] : !c.ptr<const f32 restrict>
    %kv = c.load %k[%i] : !c.ptr<const f32>
    %p = c.mul %x, %kv : f32
    %e = c.call @expf(%p) : (f32) -> f32
    c.store %e, %t[%i] : !c.ptr<f32 restrict>
    %neg = c.lt %x, %zero : f32
    %minus = c.neg %x : f32
    %abs = c.select %neg, %minus, %x : f32
    c.store %abs, %out[%i] : !c.ptr<f32 restrict>
  }
  %ok = c.literal 0 : i32
  c.return %ok : i32
}

// CHECK:      size_t scale_work_size(void) {
// CHECK-NEXT:     return (size_t)24;
// CHECK-NEXT: }
c.func @scale_work_size() -> !c.size_t {
  %n = c.literal 24 : i64
  %size = c.cast %n : i64 to !c.size_t
  c.return %size : !c.size_t
}
