// Verifier errors of loops.matmul and loops.microkernel, each located at the op.
// RUN: gradc-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @shapes(%a: memref<4x3xf32>, %b: memref<4x5xf32>, %c: memref<4x5xf32>) {
  // CHECK: matmul-invalid.mlir:[[# @LINE + 1]]:3: error: loops.matmul: shapes [4, 3] and [4, 5] do not give [4, 5] (expected A [4, 3] and B [3, 5] with these transpose flags)
  loops.matmul %a, %b into %c : memref<4x3xf32>, memref<4x5xf32> into memref<4x5xf32>
  func.return
}

// -----

func.func @element_types(%a: memref<4x3xf32>, %b: memref<3x5xf64>, %c: memref<4x5xf32>) {
  // CHECK: error: loops.matmul: operands must share one element type, got memref<4x3xf32>, memref<3x5xf64>, memref<4x5xf32>
  loops.matmul %a, %b into %c : memref<4x3xf32>, memref<3x5xf64> into memref<4x5xf32>
  func.return
}

// -----

func.func @rank(%a: memref<3xf32>, %b: memref<3xf32>, %c: memref<1xf32>) {
  // CHECK: error: loops.matmul: operands must have one rank >= 2, got memref<3xf32>, memref<3xf32>, memref<1xf32>
  loops.matmul %a, %b into %c : memref<3xf32>, memref<3xf32> into memref<1xf32>
  func.return
}

// -----

func.func @not_flat(%a: memref<8x8xf32>, %b: memref<64xf32>, %c: memref<64xf32>, %i: index) {
  // CHECK: error: loops.microkernel: a must be a flat (1-d) memref, got memref<8x8xf32>
  loops.microkernel %a[%i], %b[%i], %c[%i] {m = 2 : i64, n = 4 : i64, k = 2 : i64, lanes = 4 : i64, a_row_stride = 1 : i64, a_k_stride = 2 : i64, b_k_stride = 4 : i64, c_row_stride = 4 : i64} : memref<8x8xf32>, memref<64xf32>, memref<64xf32>
  func.return
}

// -----

func.func @reach(%a: memref<64xf32>, %b: memref<6xf32>, %c: memref<64xf32>, %i: index) {
  // Two rows of B, 4 elements apart, 3 read from each: 4 + 3 elements.
  // CHECK: error: loops.microkernel: b has 6 elements, but the access reaches 7
  loops.microkernel %a[%i], %b[%i], %c[%i] {m = 2 : i64, n = 3 : i64, k = 2 : i64, lanes = 4 : i64, a_row_stride = 1 : i64, a_k_stride = 2 : i64, b_k_stride = 4 : i64, c_row_stride = 4 : i64} : memref<64xf32>, memref<6xf32>, memref<64xf32>
  func.return
}

// -----

func.func @overlap(%a: memref<64xf32>, %b: memref<64xf32>, %c: memref<64xf32>, %i: index) {
  // CHECK: error: loops.microkernel: rows of the C tile overlap (c_row_stride 2 < n 4)
  loops.microkernel %a[%i], %b[%i], %c[%i] {m = 2 : i64, n = 4 : i64, k = 2 : i64, lanes = 4 : i64, a_row_stride = 1 : i64, a_k_stride = 2 : i64, b_k_stride = 4 : i64, c_row_stride = 2 : i64} : memref<64xf32>, memref<64xf32>, memref<64xf32>
  func.return
}

// -----

func.func @empty(%a: memref<64xf32>, %b: memref<64xf32>, %c: memref<64xf32>, %i: index) {
  // CHECK: error: loops.microkernel: m, n, k and lanes must be >= 1, got 2, 4, 0, 4
  loops.microkernel %a[%i], %b[%i], %c[%i] {m = 2 : i64, n = 4 : i64, k = 0 : i64, lanes = 4 : i64, a_row_stride = 1 : i64, a_k_stride = 2 : i64, b_k_stride = 4 : i64, c_row_stride = 4 : i64} : memref<64xf32>, memref<64xf32>, memref<64xf32>
  func.return
}

// -----

func.func @lanes(%a: memref<64xf32>, %b: memref<64xf32>, %c: memref<64xf32>, %i: index) {
  // CHECK: error: loops.microkernel: lanes must be a power of two, got 6
  loops.microkernel %a[%i], %b[%i], %c[%i] {m = 2 : i64, n = 4 : i64, k = 2 : i64, lanes = 6 : i64, a_row_stride = 1 : i64, a_k_stride = 2 : i64, b_k_stride = 4 : i64, c_row_stride = 4 : i64} : memref<64xf32>, memref<64xf32>, memref<64xf32>
  func.return
}

// -----

func.func @pack_reach(%a: memref<20xf64>, %p: memref<15xf64>, %i: index) {
  // Lane 4 is in the third panel of 2: 2 * 3 * 2 + 2 * 2 + 0 + 1 = 17 elements.
  // CHECK: error: loops.pack: dst has 15 elements, but the access reaches 17
  loops.pack %a[%i] into %p[%i] {depth = 3 : i64, width = 5 : i64, panel = 2 : i64, depth_stride = 1 : i64, lane_stride = 4 : i64} : memref<20xf64>, memref<15xf64>
  func.return
}
