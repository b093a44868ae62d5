// outline-nests: the two copies of the scaling nest (same ops, other
// pointers) become one `static noinline` function called twice; the literal
// they use is copied in, so it stays a constant; the one-off nest and the
// nest after a pragma stay where they are. The C compiles.
// RUN: gradc-opt %s -p "outline-nests{min_ops=4}" | filecheck %s
// RUN: gradc-opt %s -p "outline-nests{min_ops=4}" -t c | filecheck %s --check-prefix=C
// REQUIRES: c-compiler
// RUN: gradc-opt %s -p "outline-nests{min_ops=4}" -t c -o %t.c
// RUN: %cc -Wall -Wextra -Werror -c %t.c -o %t.o

// CHECK:      c.func static noinline @gradc_nest0(%{{.*}}: !c.ptr<const f64 restrict>, %{{.*}}: !c.ptr<f64 restrict>) {
// CHECK-NEXT:   %{{.*}} = c.literal 2.000000e+00 : f64
// CHECK-NEXT:   c.for
// CHECK:      c.func @twice
// CHECK:        c.invoke @gradc_nest0(%in, %t) : !c.ptr<const f64 restrict>, !c.ptr<f64 restrict>
// CHECK-NEXT:   c.invoke @gradc_nest0(%in, %out) : !c.ptr<const f64 restrict>, !c.ptr<f64 restrict>
// CHECK-NEXT:   c.for
// CHECK:        c.pragma "GCC ivdep"
// CHECK-NEXT:   c.for
// CHECK-NOT:  c.invoke

// C:      static __attribute__((noinline)) void gradc_nest0(const double *restrict in, double *restrict t) {
// C-NEXT:     for (int64_t i = 0; i < 8; ++i) {
// C-NEXT:         const double x = in[i];
// C-NEXT:         t[i] = x * 2.0;
// C:      int twice(const double *restrict in, double *restrict out, void *restrict work) {
// C-NEXT:     double *restrict t = (double *)work;
// C-NEXT:     gradc_nest0(in, t);
// C-NEXT:     gradc_nest0(in, out);
c.func @twice(%in: !c.ptr<const f64 restrict>, %out: !c.ptr<f64 restrict>, %work: !c.ptr<void restrict>) -> i32 {
  %t = c.byte_offset %work + 0 : !c.ptr<void restrict> -> !c.ptr<f64 restrict>
  %two = c.literal 2.0 : f64
  c.for %i = 0 to 8 step 1 {
    %x = c.load %in[%i] : !c.ptr<const f64 restrict>
    %y = c.mul %x, %two : f64
    c.store %y, %t[%i] : !c.ptr<f64 restrict>
  }
  c.for %i = 0 to 8 step 1 {
    %x = c.load %in[%i] : !c.ptr<const f64 restrict>
    %y = c.mul %x, %two : f64
    c.store %y, %out[%i] : !c.ptr<f64 restrict>
  }
  c.for %i = 0 to 8 step 1 {
    %x = c.load %t[%i] : !c.ptr<f64 restrict>
    %y = c.add %x, %two : f64
    c.store %y, %out[%i] : !c.ptr<f64 restrict>
  }
  c.pragma "GCC ivdep"
  c.for %i = 0 to 8 step 1 {
    %x = c.load %in[%i] : !c.ptr<const f64 restrict>
    %y = c.mul %x, %two : f64
    c.store %y, %out[%i] : !c.ptr<f64 restrict>
  }
  %ok = c.literal 0 : i32
  c.return %ok : i32
}
