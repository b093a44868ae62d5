// Verifier errors of array.scan, located at the scan.
// RUN: gradc-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @yield_type(%s: tensor<3xf64>) -> tensor<3xf64> {
  // CHECK: scan-invalid.mlir:[[# @LINE + 1]]:3: error: array.scan: carry 0: the body yields tensor<3xf32> but the carry has type tensor<3xf64>
  %r = array.scan length 2 (%i) carries(%a = %s : tensor<3xf64>) xs() invariants() -> () {
    %b = array.convert %a : tensor<3xf64> -> tensor<3xf32>
    array.yield %b : tensor<3xf32>
  }
  func.return %r : tensor<3xf64>
}

// -----

func.func @xs_length(%s: tensor<3xf64>, %xs: tensor<4x3xf64>) -> tensor<3xf64> {
  // CHECK: scan-invalid.mlir:[[# @LINE + 1]]:3: error: array.scan: xs 0 of type tensor<4x3xf64> must have leading dimension 5 (the length)
  %r = array.scan length 5 (%i) carries(%a = %s : tensor<3xf64>) xs(%x = %xs : tensor<4x3xf64>) invariants() -> () {
    array.yield %a : tensor<3xf64>
  }
  func.return %r : tensor<3xf64>
}

// -----

func.func @yield_count(%s: tensor<3xf64>) -> tensor<3xf64> {
  // CHECK: scan-invalid.mlir:[[# @LINE + 1]]:3: error: array.scan: the body yields 2 values, expected 1 carries and 0 per-step outputs
  %r = array.scan length 2 (%i) carries(%a = %s : tensor<3xf64>) xs() invariants() -> () {
    array.yield %a, %a : tensor<3xf64>, tensor<3xf64>
  }
  func.return %r : tensor<3xf64>
}

// -----

func.func @stacked_type(%s: tensor<3xf64>) -> (tensor<3xf64>, tensor<3x3xf64>) {
  // CHECK: scan-invalid.mlir:[[# @LINE + 1]]:3: error: array.scan: per-step output 0 is tensor<3xf64>, so its stacked result must be tensor<2x3xf64>, got tensor<3x3xf64>
  %r, %ys = array.scan length 2 (%i) carries(%a = %s : tensor<3xf64>) xs() invariants() -> (tensor<3x3xf64>) {
    array.yield %a, %a : tensor<3xf64>, tensor<3xf64>
  }
  func.return %r, %ys : tensor<3xf64>, tensor<3x3xf64>
}

// -----

func.func @length(%s: tensor<3xf64>) -> tensor<3xf64> {
  // CHECK: scan-invalid.mlir:[[# @LINE + 1]]:3: error: array.scan: length must be >= 1, got 0
  %r = array.scan length 0 (%i) carries(%a = %s : tensor<3xf64>) xs() invariants() -> () {
    array.yield %a : tensor<3xf64>
  }
  func.return %r : tensor<3xf64>
}

// -----

// The body is isolated from above: outer values come in as invariants.
func.func @captured(%s: tensor<3xf64>, %w: tensor<3xf64>) -> tensor<3xf64> {
  // CHECK: scan-invalid.mlir:[[# @LINE + 1]]:3: error: Operation using value defined out of its IsolatedFromAbove parent
  %r = array.scan length 2 (%i) carries(%a = %s : tensor<3xf64>) xs() invariants() -> () {
    %b = array.add %a, %w : tensor<3xf64>
    array.yield %b : tensor<3xf64>
  }
  func.return %r : tensor<3xf64>
}
