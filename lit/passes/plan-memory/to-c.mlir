// lower-loops-to-c puts planned buffers at their offsets, sizes the
// workspace by the plan, and drops `restrict` from pointers whose bytes
// another buffer shares (an in-place nest reads and writes one element
// through two of them).
// RUN: gradc-opt %s -p plan-memory,lower-loops-to-c -t c | filecheck %s
// RUN: gradc-opt %s -p plan-memory,lower-loops-to-c -t c -o %t.c
// RUN: %cc -c %t.c -o %t.o

// CHECK:      int scale_exp(const float *restrict x, float *restrict out, void *restrict work) {
// CHECK-NEXT:   float *a = (float *)work;
// CHECK:        float *b = (float *)work;
// CHECK:        float *restrict c = (float *)((char *)work + 64);
// CHECK:      size_t scale_exp_work_size(void) {
// CHECK-NEXT:   return (size_t)128;
func.func @scale_exp(%x: memref<4xf32>, %out: memref<4xf32>) attributes {loops.num_inputs = 1 : i64} {
  %two = arith.constant 2.0 : f32
  %a = loops.alloc "workspace" : memref<4xf32>
  loops.for %i = 0 to 4 step 1 {
    %v = loops.load %x[%i] : memref<4xf32>
    %w = arith.mulf %v, %two : f32
    loops.store %w, %a[%i] : memref<4xf32>
  }
  %b = loops.alloc "workspace" : memref<4xf32>
  loops.for %i = 0 to 4 step 1 {
    %v = loops.load %a[%i] : memref<4xf32>
    %e = math.exp %v : f32
    loops.store %e, %b[%i] : memref<4xf32>
  }
  %c = loops.alloc "workspace" : memref<4xf32>
  %three = arith.constant 3 : index
  loops.for %i = 0 to 4 step 1 {
    %r = arith.subi %three, %i : index
    %v = loops.load %b[%r] : memref<4xf32>
    %u = loops.load %x[%i] : memref<4xf32>
    %w = arith.addf %v, %u : f32
    loops.store %w, %c[%i] : memref<4xf32>
  }
  loops.for %i = 0 to 4 step 1 {
    %v = loops.load %c[%i] : memref<4xf32>
    %w = loops.load %c[%i] : memref<4xf32>
    %s = arith.mulf %v, %w : f32
    loops.store %s, %out[%i] : memref<4xf32>
  }
  func.return
}
