// expect: arith.maximumf uses %s before (or outside) its definition
// Found by gradc.fuzz (seed 3, input 2167), was: swap_lines: exit 1: gradc-opt: error: pass 'lower-loops-to-c' crashed: KeyError: <OpResult[f32] name_hint: s, index: 0, operation: arith.addf, uses: 1>
func.func @add_rows(%x: memref<4x8xf32>, %b: memref<8xf32>, %out: memref<4x8xf32>) attributes {loops.num_inputs = 2 : i64} {
  %tmp = loops.alloc "stack" : memref<8xf32>
  %ws = loops.alloc "workspace" : memref<4x8xf32>
  loops.for %j = 0 to 8 {
    %bv = loops.load %b[%j] : memref<8xf32>
    %e = math.exp %bv : f32
    loops.store %e, %tmp[%j] : memref<8xf32>
  }
  loops.for %i = 0 to 4 {
    loops.for %j = 0 to 8 {
      %xv = loops.load %x[%i, %j] : memref<4x8xf32>
      %bv = loops.load %tmp[%j] : memref<8xf32>
      %m = arith.maximumf %s, %xv : f32
      %s = arith.addf %xv, %bv : f32
      loops.store %m, %ws[%i, %j] : memref<4x8xf32>
      loops.store %m, %out[%i, %j] : memref<4x8xf32>
    }
  }
  func.return
}
