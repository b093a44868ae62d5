// expect: arith.addf uses %v before (or outside) its definition
// Found by gradc.fuzz (seed 3, input 14246), was: swap_lines: exit 1: gradc-opt: error: pass 'lower-loops-to-c' crashed: KeyError: <OpResult[f32] name_hint: v, index: 0, operation: loops.load, uses: 1>
func.func @scale_exp(%x: memref<4xf32>, %out: memref<4xf32>) attributes {loops.num_inputs = 1 : i64} {
  %two = arith.constant 2.0 : f32
  %a = loops.alloc "workspace" : memref<4xf32>
  loops.for %i = 0 to 4 step 1 {
    %v = loops.load %x[%i] : memref<4xf32>
    %w = arith.mulf %v, %two : f32
    loops.store %w, %a[%i] : memref<4xf32>
  }
  %b = loops.alloc "workspace" : memref<4xf32>
  loops.for %i = 0 to 4 step 1 {
    %v = loops.load %a[%i] : memref<4xf32>
    %e = math.exp %v : f32
    loops.store %e, %b[%i] : memref<4xf32>
  }
  %c = loops.alloc "workspace" : memref<4xf32>
  %three = arith.constant 3 : index
  loops.for %i = 0 to 4 step 1 {
    %r = arith.subi %three, %i : index
    %w = arith.addf %v, %u : f32
    %u = loops.load %x[%i] : memref<4xf32>
    %v = loops.load %b[%r] : memref<4xf32>
    loops.store %w, %c[%i] : memref<4xf32>
  }
  loops.for %i = 0 to 4 step 1 {
    %v = loops.load %c[%i] : memref<4xf32>
    %w = loops.load %c[%i] : memref<4xf32>
    %s = arith.mulf %v, %w : f32
    loops.store %s, %out[%i] : memref<4xf32>
  }
  func.return
}
