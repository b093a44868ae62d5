// math.exp, math.log and math.tanh become c.math: gradc's branch-free C,
// defined once in the file (with what it calls) and called in the loop, so
// gcc can vectorize the loop. `math=libm` calls libm instead; a bad value is
// an error that names the choices. The C compiles as strict C99.
// RUN: gradc-opt %s -p lower-loops-to-c | filecheck %s --check-prefix=IR
// RUN: gradc-opt %s -p lower-loops-to-c -t c | filecheck %s
// Only what is called is defined (tanhf calls expm1f_reduced, not expf):
// RUN: gradc-opt %s -p lower-loops-to-c -t c | not grep -E 'gradc_(expf|logf)\(float'
// RUN: gradc-opt %s -p 'lower-loops-to-c{math=libm}' -t c | filecheck %s --check-prefix=LIBM
// RUN: not gradc-opt %s -p 'lower-loops-to-c{math=fast}' 2>&1 | filecheck %s --check-prefix=BAD
// REQUIRES: c-compiler
// RUN: gradc-opt %s -p lower-loops-to-c -t c -o %t.c
// RUN: %cc -c %t.c -o %t.o

// IR:      c.math "tanh"(%{{.*}}) : f32
// IR:      c.math "log"(%{{.*}}) : f64
// IR-NOT:  c.call

// CHECK:      #include <string.h>
// CHECK:      static inline float gradc_expm1f_reduced(float r)
// CHECK:      static inline float gradc_tanhf(float x)
// CHECK:      static inline double gradc_log(double x)
// CHECK:      int act(
// CHECK:          y[i] = gradc_tanhf(xv);
// CHECK:          z[i] = gradc_log(wv);

// LIBM-NOT:   gradc_tanhf
// LIBM:       const float {{.*}} = tanhf(xv);
// LIBM:       const double {{.*}} = log(wv);

// BAD-NOT: Traceback
// BAD: error: pass 'lower-loops-to-c' failed: math must be one of gradc, libm, got 'fast'
func.func @act(%x: memref<16xf32>, %w: memref<16xf64>, %y: memref<16xf32>, %z: memref<16xf64>) attributes {loops.num_inputs = 2 : i64} {
  loops.for %i = 0 to 16 {
    %xv = loops.load %x[%i] : memref<16xf32>
    %t = math.tanh %xv : f32
    loops.store %t, %y[%i] : memref<16xf32>
    %wv = loops.load %w[%i] : memref<16xf64>
    %l = math.log %wv : f64
    loops.store %l, %z[%i] : memref<16xf64>
  }
  func.return
}
