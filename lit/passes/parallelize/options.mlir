// Tiny nests stay serial (a fork and join costs more than they do) unless
// min-work allows them; threads=1 leaves everything serial; bad options are
// errors that name the option, not tracebacks.
// RUN: gradc-opt %s -p 'lower-array-to-loops,parallelize{threads=2}' | filecheck %s --check-prefix=TINY
// RUN: gradc-opt %s -p 'lower-array-to-loops,parallelize{threads=2 min-work=0}' | filecheck %s --check-prefix=FORCED
// RUN: gradc-opt %s -p 'lower-array-to-loops,parallelize{threads=1 min-work=0}' | filecheck %s --check-prefix=TINY
// RUN: not gradc-opt %s -p 'lower-array-to-loops,parallelize{threads=0}' 2>&1 | filecheck %s --check-prefix=THREADS
// RUN: not gradc-opt %s -p 'lower-array-to-loops,parallelize{min-work=-1}' 2>&1 | filecheck %s --check-prefix=WORK

// TINY-NOT:   threads
// FORCED:     loops.for %{{.*}} = 0 to 4 step 1 threads 2 {
// FORCED-NEXT:  loops.for %{{.*}} = 0 to 8 step 1 {
// THREADS-NOT: Traceback
// THREADS:    error: pass 'parallelize' failed: threads must be >= 1, got 0
// WORK-NOT:   Traceback
// WORK:       error: pass 'parallelize' failed: min-work must be >= 0, got -1
func.func @small(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = array.tanh %x : tensor<4x8xf32>
  func.return %0 : tensor<4x8xf32>
}
