// Verifier errors of loops.linalg: the buffers must fit the kind.
// RUN: gradc-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @no_scratch(%a: memref<3x3xf64>, %b: memref<3x1xf64>, %x: memref<3x1xf64>) {
  // CHECK: linalg-invalid.mlir:[[# @LINE + 1]]:3: error: loops.linalg: solve takes 2 input(s), the output and a scratch buffer; got 3 buffers
  loops.linalg "solve"(%a, %b, %x) : memref<3x3xf64>, memref<3x1xf64>, memref<3x1xf64>
  func.return
}

// -----

func.func @flag(%a: memref<3x3xf64>, %l: memref<3x3xf64>) {
  // CHECK: linalg-invalid.mlir:[[# @LINE + 1]]:3: error: loops.linalg: cholesky takes no lower flag
  loops.linalg "cholesky"(%a, %l) lower : memref<3x3xf64>, memref<3x3xf64>
  func.return
}

// -----

func.func @kind(%a: memref<3x3xf64>, %l: memref<3x3xf64>) {
  // CHECK: linalg-invalid.mlir:[[# @LINE + 1]]:3: error: loops.linalg: unknown kind 'qr'
  loops.linalg "qr"(%a, %l) : memref<3x3xf64>, memref<3x3xf64>
  func.return
}
