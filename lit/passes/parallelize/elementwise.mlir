// A large elementwise nest runs its outer loop on threads: each iteration i
// writes only row i of the output (and reads row i of the input in place).
// Without OpenMP the same C is the serial loop: the pragma is behind #ifdef.
// RUN: gradc-opt %s -p 'lower-array-to-loops,parallelize{threads=2}' | filecheck %s
// RUN: gradc-opt %s -p 'lower-array-to-loops,parallelize{threads=4},lower-loops-to-c' -t c | filecheck %s --check-prefix=C

// CHECK-LABEL: func.func @scale
// CHECK:         loops.for %[[I:.*]] = 0 to 256 step 1 threads 2 {
// CHECK-NEXT:      loops.for %[[J:.*]] = 0 to 512 step 1 {
// CHECK-NOT:     threads

// C-LABEL:     int scale(
// C:           #ifdef _OPENMP
// C-NEXT:      #pragma omp parallel for num_threads(4) schedule(static)
// C-NEXT:      #endif
// C-NEXT:      for (int64_t i = 0; i < 256; ++i) {
// C-NEXT:          for (int64_t {{.*}} < 512; {{.*}}) {
// C-NOT:       #pragma
func.func @scale(%x: tensor<256x512xf32>) -> tensor<256x512xf32> {
  %two = array.constant dense<2.0> : tensor<256x512xf32>
  %0 = array.mul %x, %two : tensor<256x512xf32>
  %1 = array.tanh %0 : tensor<256x512xf32>
  func.return %1 : tensor<256x512xf32>
}
