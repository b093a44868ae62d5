// Larger products (here: every one, direct-bytes=0): BLIS blocking. Depth
// blocks of at most kc=8 (20 = 7 + 7 + 6, balanced), row blocks of at most
// mc=4 (9 = 4 + 4 + 1), column blocks of at most nc=8 (14 = 8 + 6); each
// block of B and of A is packed (loops.pack) into workspace panels, and
// the micro-kernels run over the panels. The first depth block overwrites C,
// the later ones accumulate.
// RUN: gradc-opt %s -p 'lower-array-to-loops,tile-matmul{direct-bytes=0 vector-bytes=16 mr=2 nr=4 kc=8 mc=4 nc=8}' | filecheck %s

// CHECK-LABEL: func.func @mm
// CHECK:         %[[A:.*]] = loops.reshape %{{.*}} : memref<9x20xf32> -> memref<180xf32>
// CHECK-NEXT:    %[[B:.*]] = loops.reshape %{{.*}} : memref<20x14xf32> -> memref<280xf32>
// CHECK-NEXT:    %[[C:.*]] = loops.reshape %{{.*}} : memref<9x14xf32> -> memref<126xf32>
// CHECK-NEXT:    %[[BP:.*]] = loops.alloc "workspace" : memref<56xf32>
// CHECK-NEXT:    %[[AP:.*]] = loops.alloc "workspace" : memref<28xf32>
// Column block 0..7, first depth block (k 0..6): B in panels of 4 columns
// (its rows run along the lanes) ...
// CHECK-NEXT:    loops.pack %[[B]][%[[ZERO:.*]]] into %[[BP]][%[[ZERO]]] {depth = 7 : i64, width = 8 : i64, panel = 4 : i64, depth_stride = 14 : i64, lane_stride = 1 : i64}
// ... then per row block of 4: A in panels of 2 rows (its rows run along the
// depth: a transposing copy), and the 2 x 4 tiles.
// CHECK-NEXT:    loops.for %[[IC:.*]] = 0 to 8 step 4 {
// CHECK-NEXT:      %[[AT:.*]] = arith.muli %[[IC]], %{{.*}} : index
// CHECK-NEXT:      loops.pack %[[A]][%[[AT]]] into %[[AP]][%[[ZERO]]] {depth = 7 : i64, width = 4 : i64, panel = 2 : i64, depth_stride = 1 : i64, lane_stride = 20 : i64}
// CHECK-NEXT:      loops.for %[[JR:.*]] = 0 to 8 step 4 {
// CHECK-NEXT:        loops.for %[[IR:.*]] = 0 to 4 step 2 {
// CHECK:               loops.microkernel %[[AP]][%{{.*}}], %[[BP]][%{{.*}}], %[[C]][%{{.*}}] {m = 2 : i64, n = 4 : i64, k = 7 : i64, lanes = 4 : i64, a_row_stride = 1 : i64, a_k_stride = 2 : i64, b_k_stride = 4 : i64, c_row_stride = 14 : i64}
// The last row block has one row.
// CHECK:         loops.pack %[[A]][%{{.*}}] into %[[AP]][%[[ZERO]]] {depth = 7 : i64, width = 1 : i64, panel = 2 : i64
// CHECK:         loops.microkernel %[[AP]][%{{.*}}], %[[BP]][%{{.*}}], %[[C]][%{{.*}}] {m = 1 : i64, n = 4 : i64, k = 7 : i64
// The second depth block accumulates.
// CHECK:         loops.microkernel %[[AP]][%{{.*}}], %[[BP]][%{{.*}}], %[[C]][%{{.*}}] {m = 2 : i64, n = 4 : i64, k = 7 : i64, {{.*}}, accumulate}
// The last column block (6 columns): a panel of 4 and one of 2 (a tile of
// 2-element vectors: nothing padded).
// CHECK:         loops.pack %[[B]][%{{.*}}] into %[[BP]][%[[ZERO]]] {depth = 6 : i64, width = 6 : i64, panel = 4 : i64
// CHECK:         loops.microkernel {{.*}} {m = 2 : i64, n = 2 : i64, k = 6 : i64, lanes = 4 : i64, a_row_stride = 1 : i64, a_k_stride = 2 : i64, b_k_stride = 4 : i64, c_row_stride = 14 : i64, accumulate}
// CHECK:         loops.microkernel {{.*}} {m = 1 : i64, n = 2 : i64, k = 6 : i64, {{.*}}, accumulate}
// CHECK-NOT:     loops.matmul
func.func @mm(%x: tensor<9x20xf32>, %w: tensor<20x14xf32>) -> tensor<9x14xf32> {
  %0 = array.matmul %x, %w : tensor<9x20xf32>, tensor<20x14xf32> -> tensor<9x14xf32>
  func.return %0 : tensor<9x14xf32>
}
