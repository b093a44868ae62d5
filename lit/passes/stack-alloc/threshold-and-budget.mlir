// stack-alloc moves workspace buffers up to `threshold` bytes to the stack,
// smallest first, while the function's stack (buffers already there
// included) stays within `budget`; it records the stack bytes.
// RUN: gradc-opt %s -p 'stack-alloc{threshold=64 budget=1000}' | filecheck %s --check-prefix=THRESHOLD
// RUN: gradc-opt %s -p 'stack-alloc{threshold=4096 budget=100}' | filecheck %s --check-prefix=BUDGET
// RUN: gradc-opt %s -p stack-alloc | filecheck %s --check-prefix=DEFAULT
// RUN: gradc-opt %s -p 'stack-alloc{budget=20}' | filecheck %s --check-prefix=OVER
// RUN: gradc-opt %s -p 'stack-alloc{threshold=64 budget=1000},plan-memory' | filecheck %s --check-prefix=PLANNED

// THRESHOLD:      loops.stack_bytes = 112 : i64
// THRESHOLD:      %big = loops.alloc "workspace" : memref<1024xf32>
// THRESHOLD-NEXT: %mid = loops.alloc "workspace" : memref<64xf32>
// THRESHOLD-NEXT: %small = loops.alloc "stack" : memref<4xf32>
// THRESHOLD-NEXT: %panel = loops.alloc "stack" : memref<8xf32>
// THRESHOLD-NEXT: %row = loops.alloc "stack" : memref<16xf32>

// The 32 bytes of %panel are there already; %small (16) fits, %row (64)
// would make 112 > 100.
// BUDGET:      loops.stack_bytes = 48 : i64
// BUDGET:      %big = loops.alloc "workspace" : memref<1024xf32>
// BUDGET-NEXT: %mid = loops.alloc "workspace" : memref<64xf32>
// BUDGET-NEXT: %small = loops.alloc "stack" : memref<4xf32>
// BUDGET-NEXT: %panel = loops.alloc "stack" : memref<8xf32>
// BUDGET-NEXT: %row = loops.alloc "workspace" : memref<16xf32>

// A stack buffer that is already there but over the budget (%panel, 32 >
// 20 bytes: tile-matmul's packed panels) moves to the workspace first; then
// %small (16) fits.
// OVER:      loops.stack_bytes = 16 : i64
// OVER:      %big = loops.alloc "workspace" : memref<1024xf32>
// OVER-NEXT: %mid = loops.alloc "workspace" : memref<64xf32>
// OVER-NEXT: %small = loops.alloc "stack" : memref<4xf32>
// OVER-NEXT: %panel = loops.alloc "workspace" : memref<8xf32>
// OVER-NEXT: %row = loops.alloc "workspace" : memref<16xf32>

// DEFAULT:      loops.stack_bytes = 4464 : i64
// DEFAULT:      %big = loops.alloc "stack" : memref<1024xf32>
// DEFAULT-NEXT: %mid = loops.alloc "stack" : memref<64xf32>

// PLANNED:      loops.workspace_bytes = 4352 : i64
// PLANNED:      %big = loops.alloc "workspace" at 0 : memref<1024xf32>
// PLANNED-NEXT: %mid = loops.alloc "workspace" at 4096 : memref<64xf32>
func.func @f(%x: memref<4xf32>, %out: memref<4xf32>) attributes {loops.num_inputs = 1 : i64} {
  %big = loops.alloc "workspace" : memref<1024xf32>
  %mid = loops.alloc "workspace" : memref<64xf32>
  %small = loops.alloc "workspace" : memref<4xf32>
  %panel = loops.alloc "stack" : memref<8xf32>
  %row = loops.alloc "workspace" : memref<16xf32>
  %zero = arith.constant 0 : index
  %v = loops.load %x[%zero] : memref<4xf32>
  loops.store %v, %big[%zero] : memref<1024xf32>
  loops.store %v, %mid[%zero] : memref<64xf32>
  loops.store %v, %small[%zero] : memref<4xf32>
  loops.store %v, %panel[%zero] : memref<8xf32>
  loops.store %v, %row[%zero] : memref<16xf32>
  %a = loops.load %big[%zero] : memref<1024xf32>
  %b = loops.load %mid[%zero] : memref<64xf32>
  %s = arith.addf %a, %b : f32
  loops.store %s, %out[%zero] : memref<4xf32>
  func.return
}
