// Verifier errors of the loop-level `autodiff` ops, each located at the op.
// RUN: gradc-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @entry_shape(%tape: memref<7x4xf64>, %e: memref<3xf64>, %s: index) {
  // CHECK: tape-invalid.mlir:[[# @LINE + 1]]:3: error: autodiff.push: tape memref<7x4xf64> does not hold entries of memref<3xf64> (expected a leading capacity dimension)
  autodiff.push %e, %tape[%s] : memref<3xf64> into memref<7x4xf64>
  func.return
}

// -----

func.func @entry_type(%tape: memref<7x4xf64>, %e: memref<4xf32>, %s: index) {
  // CHECK: tape-invalid.mlir:[[# @LINE + 1]]:3: error: autodiff.pop: tape memref<7x4xf64> does not hold entries of memref<4xf32> (expected a leading capacity dimension)
  autodiff.pop %tape[%s] into %e : memref<7x4xf64> into memref<4xf32>
  func.return
}

// -----

func.func @bad_mode() {
  // CHECK: tape-invalid.mlir:[[# @LINE + 1]]:3: error: autodiff.schedule: unknown checkpoint mode 'binomial(3)'; expected one of none, every=K, binomial(snapshots=S), budget=BYTES, recompute
  autodiff.schedule "binomial(3)" forward steps 7 state 32 entry 32 advance(%i) {
  } store(%k) {
  } restore(%k) {
  } taped(%i, %t) {
  } adjoint(%i, %t) {
  }
  func.return
}

// -----

func.func @bad_phase() {
  // CHECK: tape-invalid.mlir:[[# @LINE + 1]]:3: error: autodiff.schedule: phase must be forward or reverse, got 'backward'
  autodiff.schedule "none" backward steps 7 state 32 entry 32 advance(%i) {
  } store(%k) {
  } restore(%k) {
  } taped(%i, %t) {
  } adjoint(%i, %t) {
  }
  func.return
}

// -----

func.func @no_steps() {
  // CHECK: tape-invalid.mlir:[[# @LINE + 1]]:3: error: autodiff.schedule: steps must be in [1, 2^31) and byte sizes >= 0, got steps 0, state 32, entry 32
  autodiff.schedule "none" forward steps 0 state 32 entry 32 advance(%i) {
  } store(%k) {
  } restore(%k) {
  } taped(%i, %t) {
  } adjoint(%i, %t) {
  }
  func.return
}

// -----

func.func @region_arguments() {
  // CHECK: tape-invalid.mlir:[[# @LINE + 1]]:3: error: autodiff.schedule: region taped takes 2 `index` argument(s)
  autodiff.schedule "none" forward steps 7 state 32 entry 32 advance(%i) {
  } store(%k) {
  } restore(%k) {
  } taped(%i) {
  } adjoint(%i, %t) {
  }
  func.return
}

// -----

func.func @budget_too_small() {
  // CHECK: tape-invalid.mlir:[[# @LINE + 1]]:3: error: autodiff.schedule: a checkpoint budget of 16 bytes does not hold one state of 32 bytes
  autodiff.schedule "budget=16" forward steps 7 state 32 entry 32 advance(%i) {
  } store(%k) {
  } restore(%k) {
  } taped(%i, %t) {
  } adjoint(%i, %t) {
  }
  func.return
}
