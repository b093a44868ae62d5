// expect: loops.store uses %s before (or outside) its definition
// Found by gradc.fuzz (seed 3, input 11304), was: swap_lines: exit 1: gradc-opt: error: pass 'lower-loops-to-c' crashed: KeyError: <OpResult[index] name_hint: zero, index: 0, operation: arith.constant, uses: 9>
func.func @f(%x: memref<4xf32>, %out: memref<4xf32>) attributes {loops.num_inputs = 1 : i64} {
  %big = loops.alloc "workspace" : memref<1024xf32>
  %mid = loops.alloc "workspace" : memref<64xf32>
  %small = loops.alloc "workspace" : memref<4xf32>
  %panel = loops.alloc "stack" : memref<8xf32>
  loops.store %s, %out[%zero] : memref<4xf32>
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
  %row = loops.alloc "workspace" : memref<16xf32>
  func.return
}
