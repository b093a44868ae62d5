// Text in `c` IR that would reach the C file is checked by the verifier: a
// pragma is one inert line of a conservative character set, a call names a
// <math.h> function or a function of the module, and a function name is a
// C identifier that no header or gradc helper uses.
// RUN: gradc-opt %s --split-input-file --verify-diagnostics 2>&1 | filecheck %s
// CHECK-NOT: Traceback

c.func @f() {
  c.pragma "omp simd \\"
  c.for %i = 0 to 4 step 1 {
  }
}
// CHECK: error: c.pragma: 'omp simd \\' is not a pragma gradc prints

// -----

c.func @f() {
  c.pragma "GCC ivdep */ int x; /*"
  c.for %i = 0 to 4 step 1 {
  }
}
// CHECK: error: c.pragma: 'GCC ivdep */ int x; /*' is not a pragma gradc prints

// -----

c.func @f() {
  c.pragma "omp simd\0D"
  c.for %i = 0 to 4 step 1 {
  }
}
// CHECK: error: c.pragma: 'omp simd\r' is not a pragma gradc prints

// -----

c.func @f() {
  c.pragma "GCC unroll 4 // é"
  c.for %i = 0 to 4 step 1 {
  }
}
// CHECK: error: c.pragma: 'GCC unroll 4 // é' is not a pragma gradc prints

// -----

c.func @f() {
  c.pragma "message(\22x\22)"
  c.for %i = 0 to 4 step 1 {
  }
}
// CHECK: error: c.pragma: 'message("x")' is not a pragma gradc prints

// -----

c.func @f(%x: f64) -> f64 {
  %y = c.call @system(%x) : (f64) -> f64
  c.return %y : f64
}
// CHECK: error: c.call: @system is neither a <math.h> function nor a c.func of this module

// -----

// CHECK: error: c.func @asm: not a valid C identifier, or a reserved one (try 'g_asm')
c.func @asm() {
}

// -----

// CHECK: error: c.func @EOF: not a valid C identifier, or a reserved one (try 'g_EOF')
c.func @EOF() {
}

// -----

// CHECK: error: c.func @gradc_tanhf: not a valid C identifier, or a reserved one (try 'g_gradc_tanhf')
c.func @gradc_tanhf() {
}

// -----

// CHECK: error: c.func @"f;": not a valid C identifier, or a reserved one (try 'f_')
c.func @"f;"() {
}

// -----

// CHECK: error: c.func @"f\n#include <stdlib.h>\u00e9": not a valid C identifier, or a reserved one (try 'f__include__stdlib_h__')
c.func @"f\0A#include <stdlib.h>é"() {
}
