// A loops.matmul epilogue runs on each register tile right after the tile's
// last depth block (here the third of kc=4 over k=10), while the tile is in
// L1; earlier depth blocks leave the tile alone. Each tile shape (4 rows,
// and the 2-row edge) gets its own loop over the tile.
// RUN: gradc-opt %s -p "tile-matmul{direct-bytes=0 vector-bytes=32 mr=4 nr=8 kc=4 mc=4 nc=8}" | filecheck %s
// The direct path, and the untiled loop nest, apply it too.
// RUN: gradc-opt %s -p tile-matmul | filecheck %s --check-prefix=DIRECT
// RUN: gradc-opt %s -p lower-loops-to-c -t c | filecheck %s --check-prefix=UNTILED

// CHECK-LABEL: func.func @layer
// CHECK:         loops.for %[[JC:.*]] = 0 to 16 step 8 {
// CHECK-NOT:       math.tanh
// CHECK:           loops.microkernel {{.*}} {m = 4 : i64, n = 8 : i64, k = 2 : i64, {{.*}}, accumulate}
// CHECK-NEXT:      loops.for %[[R:.*]] = 0 to 4 step 1 {
// CHECK-NEXT:        loops.for %[[COL:.*]] = 0 to 8 step 1 {
// CHECK:               %[[V:.*]] = loops.load %[[C:.*]][%[[AT:.*]]] : memref<96xf32>
// CHECK:               %[[Y:.*]] = arith.addf %[[V]], %{{.*}} : f32
// CHECK-NEXT:          %[[Z:.*]] = math.tanh %[[Y]] : f32
// CHECK-NEXT:          loops.store %[[Z]], %[[C]][%[[AT]]] : memref<96xf32>
// CHECK:           loops.microkernel {{.*}} {m = 2 : i64, n = 8 : i64, k = 2 : i64, {{.*}}, accumulate}
// CHECK-NEXT:      loops.for %{{.*}} = 0 to 2 step 1 {
// CHECK:               math.tanh
// CHECK-NOT:   loops.matmul

// DIRECT:        loops.microkernel {{.*}} {m = 6 : i64, n = 16 : i64, k = 10 : i64,
// DIRECT-NEXT:   loops.for %{{.*}} = 0 to 6 step 1 {
// DIRECT-NEXT:     loops.for %{{.*}} = 0 to 16 step 1 {
// DIRECT:              math.tanh

// UNTILED:       for (int64_t [[P:.*]] = 0; [[P]] < 10; ++[[P]]) {
// UNTILED:       }
// UNTILED-NEXT:  }
// UNTILED-NEXT:  for (int64_t [[J:.*]] = 0; [[J]] < 16; ++[[J]]) {
// UNTILED:           tanhf(
func.func @layer(%a: memref<6x10xf32>, %b: memref<10x16xf32>, %bias: memref<16xf32>, %c: memref<6x16xf32>) attributes {loops.num_inputs = 3 : i64} {
  loops.matmul %a, %b into %c epilogue {
  ^bb0(%v: f32, %i: index, %j: index):
    %x = loops.load %bias[%j] : memref<16xf32>
    %y = arith.addf %v, %x : f32
    %z = math.tanh %y : f32
    loops.yield %z : f32
  } : memref<6x10xf32>, memref<10x16xf32> into memref<6x16xf32>
  func.return
}
