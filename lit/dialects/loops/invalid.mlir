// Verifier errors of the `loops` dialect, each located at the offending op.
// RUN: gradc-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @step_zero() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: loops.for: step must be >= 1, got 0
  loops.for %i = 0 to 4 step 0 {
  }
  func.return
}

// -----

func.func @body_argument() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: loops.for: the body must have exactly one `index` argument
  "loops.for"() <{lower = #builtin.int<0>, upper = #builtin.int<4>, step = #builtin.int<1>}> ({
  ^bb0(%i: f32):
    "loops.yield"() : () -> ()
  }) : () -> ()
  func.return
}

// -----

func.func @yield_outside_for() {
  "test.op"() ({
    // CHECK: invalid.mlir:[[# @LINE + 1]]:5: error: 'loops.yield' expects parent op to be one of 'loops.for', 'loops.matmul'
    "loops.yield"() : () -> ()
  }) : () -> ()
  func.return
}

// -----

func.func @placement() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: loops.alloc: placement must be one of stack, workspace, got 'heap'
  %0 = loops.alloc "heap" : memref<4xf32>
  func.return
}

// -----

func.func @dynamic_alloc() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: loops.alloc: shapes must be static, got memref<?xf32>
  %0 = loops.alloc "stack" : memref<?xf32>
  func.return
}

// -----

func.func @constant_type() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: loops.constant: value tensor<4xf32> does not match memref<8xf32>
  %0 = loops.constant dense<1.0> : tensor<4xf32> -> memref<8xf32>
  func.return
}

// -----

func.func @reshape_size(%x: memref<32xf32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: loops.reshape: cannot view memref<32xf32> as memref<4x4xf32>
  %0 = loops.reshape %x : memref<32xf32> -> memref<4x4xf32>
  func.return
}

// -----

func.func @index_count(%x: memref<4x8xf32>) {
  loops.for %i = 0 to 4 {
    // CHECK: invalid.mlir:[[# @LINE + 1]]:5: error: loops.load: memref<4x8xf32> needs 2 indices, got 1
    %v = loops.load %x[%i] : memref<4x8xf32>
  }
  func.return
}

// -----

func.func @load_type(%x: memref<4xf32>) {
  loops.for %i = 0 to 4 {
    // CHECK: invalid.mlir:[[# @LINE + 1]]:5: error: loops.load: result type f64 does not match memref<4xf32>
    %v = "loops.load"(%x, %i) : (memref<4xf32>, index) -> f64
  }
  func.return
}

// -----

func.func @store_type(%x: memref<4xf32>, %v: f64) {
  loops.for %i = 0 to 4 {
    // CHECK: invalid.mlir:[[# @LINE + 1]]:5: error: loops.store: value type f64 does not match memref<4xf32>
    "loops.store"(%v, %x, %i) : (f64, memref<4xf32>, index) -> ()
  }
  func.return
}

// -----

func.func @misaligned_offset() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: loops.alloc: offset must be a non-negative multiple of 64, got 32
  %a = loops.alloc "workspace" at 32 : memref<4xf32>
  func.return
}

// -----

func.func @for_yields_values(%v: f32) {
  loops.for %i = 0 to 4 {
    // CHECK: invalid.mlir:[[# @LINE + 1]]:5: error: loops.yield: a loops.for body yields no values
    "loops.yield"(%v) : (f32) -> ()
  }
  func.return
}

// -----

func.func @stack_offset() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: loops.alloc: only workspace buffers have an offset
  %a = loops.alloc "stack" at 64 : memref<4xf32>
  func.return
}

// -----

func.func @epilogue_arguments(%a: memref<2x3xf32>, %b: memref<3x4xf32>, %c: memref<2x4xf32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: loops.matmul: the epilogue takes the product's element and its 2 indices (f32, index, index)
  loops.matmul %a, %b into %c epilogue {
  ^bb0(%v: f32, %i: index):
    loops.yield %v : f32
  } : memref<2x3xf32>, memref<3x4xf32> into memref<2x4xf32>
  func.return
}

// -----

func.func @epilogue_yield(%a: memref<2x3xf32>, %b: memref<3x4xf32>, %c: memref<2x4xf32>, %d: f64) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: loops.matmul: the epilogue must yield one f32
  loops.matmul %a, %b into %c epilogue {
  ^bb0(%v: f32, %i: index, %j: index):
    loops.yield %d : f64
  } : memref<2x3xf32>, memref<3x4xf32> into memref<2x4xf32>
  func.return
}

// -----

func.func @epilogue_accumulate(%a: memref<2x3xf32>, %b: memref<3x4xf32>, %c: memref<2x4xf32>) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: loops.matmul: an accumulating product cannot have an epilogue
  loops.matmul %a, %b into %c accumulate epilogue {
  ^bb0(%v: f32, %i: index, %j: index):
    loops.yield %v : f32
  } : memref<2x3xf32>, memref<3x4xf32> into memref<2x4xf32>
  func.return
}

// -----

func.func @one_thread() {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: loops.for: threads must be >= 2, got 1
  loops.for %i = 0 to 4 step 1 threads 1 {
  }
  func.return
}

// -----

func.func @dot_two_columns(%a: memref<64xf64>, %b: memref<16xf64>, %c: memref<8xf64>, %i: index) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: loops.microkernel: a dot tile has n = 1 and runs along k in A and B (n 2, a_k_stride 1, b_k_stride 2)
  loops.microkernel %a[%i], %b[%i], %c[%i] {m = 4 : i64, n = 2 : i64, k = 8 : i64, lanes = 8 : i64, a_row_stride = 8 : i64, a_k_stride = 1 : i64, b_k_stride = 2 : i64, c_row_stride = 2 : i64, dot} : memref<64xf64>, memref<16xf64>, memref<8xf64>
  func.return
}

// -----

func.func @special_unknown(%x: f32) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: loops.special: unknown function "zeta"; expected one of erfc
  %y = loops.special "zeta"(%x) : f32
  func.return
}

// -----

func.func @special_not_float(%x: i32) {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: loops.special: expected f32 or f64, got i32
  %y = loops.special "erfc"(%x) : i32
  func.return
}
