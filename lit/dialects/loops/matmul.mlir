// The structured matrix-product ops round-trip, in their custom form and in
// the generic form: loops.matmul (a whole product; transpose flags read A^T
// and B^T in place), loops.microkernel (one register tile over flat
// buffers, with static sizes and strides and dynamic offsets) and
// loops.pack (a strided block copied into panels).
// RUN: gradc-opt %s | gradc-opt | filecheck %s
// RUN: gradc-opt %s --print-op-generic | gradc-opt | filecheck %s

// CHECK-LABEL: func.func @products
// CHECK-NEXT:    loops.matmul %{{.*}}, %{{.*}} into %{{.*}} : memref<4x3xf32>, memref<3x5xf32> into memref<4x5xf32>
// CHECK-NEXT:    loops.matmul %{{.*}}, %{{.*}} into %{{.*}} transpose_a transpose_b accumulate : memref<2x3x4xf64>, memref<2x5x3xf64> into memref<2x4x5xf64>
func.func @products(%a: memref<4x3xf32>, %b: memref<3x5xf32>, %c: memref<4x5xf32>,
                    %at: memref<2x3x4xf64>, %bt: memref<2x5x3xf64>, %cb: memref<2x4x5xf64>) {
  loops.matmul %a, %b into %c : memref<4x3xf32>, memref<3x5xf32> into memref<4x5xf32>
  loops.matmul %at, %bt into %cb transpose_a transpose_b accumulate : memref<2x3x4xf64>, memref<2x5x3xf64> into memref<2x4x5xf64>
  func.return
}

// CHECK-LABEL: func.func @tile
// CHECK:         loops.microkernel %{{.*}}[%{{.*}}], %{{.*}}[%{{.*}}], %{{.*}}[%{{.*}}] {m = 2 : i64, n = 5 : i64, k = 3 : i64, lanes = 4 : i64, a_row_stride = 1 : i64, a_k_stride = 2 : i64, b_k_stride = 8 : i64, c_row_stride = 5 : i64, accumulate} : memref<64xf32>, memref<96xf32>, memref<40xf32>
func.func @tile(%ap: memref<64xf32>, %bp: memref<96xf32>, %c: memref<40xf32>) {
  %i = arith.constant 0 : index
  loops.microkernel %ap[%i], %bp[%i], %c[%i] {m = 2 : i64, n = 5 : i64, k = 3 : i64, lanes = 4 : i64, a_row_stride = 1 : i64, a_k_stride = 2 : i64, b_k_stride = 8 : i64, c_row_stride = 5 : i64, accumulate} : memref<64xf32>, memref<96xf32>, memref<40xf32>
  func.return
}

// CHECK-LABEL: func.func @pack
// CHECK:         loops.pack %{{.*}}[%{{.*}}] into %{{.*}}[%{{.*}}] {depth = 3 : i64, width = 5 : i64, panel = 2 : i64, depth_stride = 1 : i64, lane_stride = 4 : i64} : memref<20xf64>, memref<18xf64>
func.func @pack(%a: memref<20xf64>, %p: memref<18xf64>) {
  %i = arith.constant 0 : index
  loops.pack %a[%i] into %p[%i] {depth = 3 : i64, width = 5 : i64, panel = 2 : i64, depth_stride = 1 : i64, lane_stride = 4 : i64} : memref<20xf64>, memref<18xf64>
  func.return
}
