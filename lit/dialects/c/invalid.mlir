// Verifier errors of the `c` dialect, each located at the offending op.
// RUN: gradc-opt %s --split-input-file --verify-diagnostics | filecheck %s

// CHECK: invalid.mlir:[[# @LINE + 1]]:1: error: c.func @my-kernel: not a valid C identifier, or a reserved one (try 'my_kernel')
c.func @"my-kernel"() {
}

// -----

// CHECK: invalid.mlir:[[# @LINE + 1]]:1: error: c.func @f: a function with a result must end with c.return
c.func @f(%x: f32) -> f32 {
}

// -----

c.func @f(%x: f32) -> f64 {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: c.return: @f returns f64, got f32
  c.return %x : f32
}

// -----

// CHECK: invalid.mlir:[[# @LINE + 1]]:1: error: c.func @f: parameter type tensor<4xf32> is not a C scalar or !c.ptr
c.func @f(%x: tensor<4xf32>) {
}

// -----

c.func @f() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: c.for: step must be >= 1, got 0
  c.for %i = 0 to 8 step 0 {
  }
}

// -----

c.func @f() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: c.pragma "omp simd": must be followed by a c.for
  c.pragma "omp simd"
  c.return
}

// -----

c.func @f() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: c.array: size must be >= 1, got 0
  %a = c.array 0 : !c.ptr<f32>
}

// -----

c.func @f(%p: !c.ptr<const f32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: c.byte_offset: cannot drop const from !c.ptr<const f32> to !c.ptr<f32>
  %q = c.byte_offset %p + 4 : !c.ptr<const f32> -> !c.ptr<f32>
}

// -----

c.func @f(%p: !c.ptr<const f32>, %v: f32) {
  %i = c.literal 0 : index
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: c.store: cannot store through !c.ptr<const f32>
  c.store %v, %p[%i] : !c.ptr<const f32>
}

// -----

c.func @f(%p: !c.ptr<void>) {
  %i = c.literal 0 : index
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: c.load: cannot index a void pointer
  %v = "c.load"(%p, %i) : (!c.ptr<void>, index) -> f32
}

// -----

c.func @f(%a: i1, %b: i1) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: c.add: arithmetic on i1 is not allowed; use c.and/c.or
  %c = c.add %a, %b : i1
}

// -----

c.func @f(%a: f32) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: c.not: operand must be i1, got f32
  %b = c.not %a : f32
}

// -----

c.func @f(%a: f32) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: c.call: @for is neither a <math.h> function nor a c.func of this module
  %b = c.call @for(%a) : (f32) -> f32
}

// -----

c.func @f(%a: f32) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: c.cast: expected a C scalar type (f32, f64, i1, i8..i64, index, !c.size_t), got i3
  %b = c.cast %a : f32 to i3
}

// -----

c.func @microkernel_const_out(%a: !c.ptr<const f32 restrict>, %c: !c.ptr<const f32 restrict>) {
  %i = c.literal 0 : index
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: c.microkernel: cannot write through !c.ptr<const f32 restrict>
  c.microkernel %a[%i], %a[%i], %c[%i] {m = 2 : i64, n = 4 : i64, k = 3 : i64, lanes = 4 : i64, a_row_stride = 3 : i64, a_k_stride = 1 : i64, b_k_stride = 4 : i64, c_row_stride = 4 : i64} : !c.ptr<const f32 restrict>, !c.ptr<const f32 restrict>, !c.ptr<const f32 restrict>
}

// -----

c.func @microkernel_lanes(%a: !c.ptr<const f32 restrict>, %c: !c.ptr<f32 restrict>) {
  %i = c.literal 0 : index
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: c.microkernel: lanes must be a power of two, got 6
  c.microkernel %a[%i], %a[%i], %c[%i] {m = 2 : i64, n = 4 : i64, k = 3 : i64, lanes = 6 : i64, a_row_stride = 3 : i64, a_k_stride = 1 : i64, b_k_stride = 4 : i64, c_row_stride = 4 : i64} : !c.ptr<const f32 restrict>, !c.ptr<const f32 restrict>, !c.ptr<f32 restrict>
}

// -----

c.func @pack_types(%a: !c.ptr<const f64 restrict>, %p: !c.ptr<f32 restrict>) {
  %i = c.literal 0 : index
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: c.pack: operands must point to one of f32, f64; got !c.ptr<const f64 restrict>, !c.ptr<f32 restrict>
  c.pack %a[%i] into %p[%i] {depth = 4 : i64, width = 8 : i64, panel = 8 : i64, depth_stride = 1 : i64, lane_stride = 4 : i64} : !c.ptr<const f64 restrict>, !c.ptr<f32 restrict>
}

// -----

c.func @math_function(%x: f32) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: c.math: unknown function "sin"; expected one of exp, log, tanh
  %y = c.math "sin"(%x) : f32
}

// -----

c.func @math_type(%x: i32) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: c.math: expected f32 or f64, got i32
  %y = c.math "exp"(%x) : i32
}
