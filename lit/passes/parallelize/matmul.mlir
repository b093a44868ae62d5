// The packed BLIS nest of tile-matmul (fixed block sizes, so the test does
// not depend on the machine): the loop over MC row blocks (ic) is the
// outermost parallel one. Its iterations write disjoint rows of C, read the
// packed B block (packed before the loop), and each packs its own A block
// into a per-thread slice of a_panels (twice as large, offset by
// thread_id * MC * KC). The depth loop (pc) accumulates into C, so it stays serial.
// RUN: gradc-opt %s -p 'lower-array-to-loops,tile-matmul{mr=8 nr=32 kc=64 mc=64 nc=256 vector-bytes=64 direct-bytes=0},parallelize{threads=2}' | filecheck %s
// RUN: gradc-opt %s -p 'lower-array-to-loops,tile-matmul{mr=8 nr=32 kc=64 mc=64 nc=256 vector-bytes=64 direct-bytes=0},parallelize{threads=2},lower-loops-to-c' -t c | filecheck %s --check-prefix=C
// A large pack of B outside the parallel loop is split into one group of
// whole panels per thread (disjoint panels), run in parallel as well.
// RUN: gradc-opt %s -p 'lower-array-to-loops,tile-matmul{mr=8 nr=32 kc=64 mc=64 nc=256 vector-bytes=64 direct-bytes=0},parallelize{threads=2 min-work=16384}' | filecheck %s --check-prefix=SPLIT

// CHECK-LABEL: func.func @mm
// CHECK:         %[[B:.*]] = loops.alloc "workspace" : memref<16384xf32>
// CHECK-NEXT:    %[[A:.*]] = loops.alloc "workspace" : memref<8192xf32>
// CHECK:         loops.pack %{{.*}} into %[[B]]
// CHECK-NEXT:    loops.for %[[IC:.*]] = 0 to 256 step 64 threads 2 {
// CHECK-NEXT:      %[[T:.*]] = loops.thread_id : index
// CHECK-NEXT:      %[[SIZE:.*]] = arith.constant 4096 : index
// CHECK-NEXT:      %[[SLICE:.*]] = arith.muli %[[T]], %[[SIZE]] : index
// CHECK:           %[[AT:.*]] = arith.addi %{{.*}}, %[[SLICE]] : index
// CHECK-NEXT:      loops.pack %{{.*}} into %[[A]][%[[AT]]]
// CHECK:           loops.for %{{.*}} = 0 to 256 step 32 {
// CHECK:             %[[AK:.*]] = arith.addi %{{.*}}, %[[SLICE]] : index
// CHECK-NEXT:        loops.microkernel %[[A]][%[[AK]]], %[[B]]
// CHECK:         loops.for %{{.*}} = 64 to 256 step 64 {
// CHECK:           loops.pack %{{.*}} into %[[B]]
// CHECK-NEXT:      loops.for %{{.*}} = 0 to 256 step 64 threads 2 {

// SPLIT:         %[[B:.*]] = loops.alloc "workspace" : memref<16384xf32>
// SPLIT:         loops.for %[[JP:.*]] = 0 to 256 step 128 threads 2 {
// SPLIT:           %[[SRC:.*]] = arith.addi
// SPLIT:           %[[DST:.*]] = arith.addi
// SPLIT-NEXT:      loops.pack %{{.*}}[%[[SRC]]] into %[[B]][%[[DST]]] {depth = 64 : i64, width = 128 : i64, panel = 32 : i64
// SPLIT-NEXT:    }
// SPLIT-NEXT:    loops.for %{{.*}} = 0 to 256 step 64 threads 2 {

// C-LABEL:     int mm(
// C:           #pragma omp parallel for num_threads(2) schedule(static)
// C-NEXT:      #endif
// C-NEXT:      for (int64_t ic = 0; ic < 256; ic += 64) {
// C-NEXT:          const int64_t {{.*}} = gradc_thread_num();
func.func @mm(%x: tensor<256x256xf32>, %w: tensor<256x256xf32>) -> tensor<256x256xf32> {
  %0 = array.matmul %x, %w : tensor<256x256xf32>, tensor<256x256xf32> -> tensor<256x256xf32>
  func.return %0 : tensor<256x256xf32>
}
