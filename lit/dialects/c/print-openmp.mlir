// A guarded pragma prints inside #ifdef, and c.thread_num calls a helper
// that is OpenMP's thread number with OpenMP and 0 without, so the file
// compiles cleanly (strict C99, -Werror) without -fopenmp.
// RUN: gradc-opt %s -t c | filecheck %s
// RUN: gradc-opt %s -t c -o %t.c && %cc -c %t.c -o %t.o
// REQUIRES: c-compiler

// CHECK:      #ifdef _OPENMP
// CHECK-NEXT: #include <omp.h>
// CHECK-NEXT: #endif
// CHECK-NEXT: static inline int64_t gradc_thread_num(void) {
// CHECK-NEXT: #ifdef _OPENMP
// CHECK-NEXT:     return omp_get_thread_num();
// CHECK-NEXT: #else
// CHECK-NEXT:     return 0;
// CHECK-NEXT: #endif
// CHECK-NEXT: }
// CHECK:      int rows(float *restrict out, void *restrict work) {
// CHECK-NEXT:     (void)work;
// CHECK-NEXT: #ifdef _OPENMP
// CHECK-NEXT:     #pragma omp parallel for num_threads(2) schedule(static)
// CHECK-NEXT: #endif
// CHECK-NEXT:     for (int64_t i = 0; i < 8; ++i) {
// CHECK-NEXT:         const int64_t t = gradc_thread_num();
// CHECK-NEXT:         out[i] = (float)t;
c.func @rows(%out: !c.ptr<f32 restrict>, %work: !c.ptr<void restrict>) -> i32 {
  c.pragma "omp parallel for num_threads(2) schedule(static)" if "_OPENMP"
  c.for %i = 0 to 8 step 1 {
    %t = c.thread_num : index
    %f = c.cast %t : index to f32
    c.store %f, %out[%i] : !c.ptr<f32 restrict>
  }
  %ok = c.literal 0 : i32
  c.return %ok : i32
}
