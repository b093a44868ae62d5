// expect: loops.pack uses %bf before (or outside) its definition
// Found by gradc.fuzz (seed 3, input 5532), was: swap_lines: exit 1: gradc-opt: error: pass 'lower-loops-to-c' crashed: KeyError: <OpResult[memref<340xf32>] name_hint: bf, index: 0, operation: loops.reshape, u
func.func @packs(%a: memref<24x16xf32>, %b: memref<17x20xf32>) attributes {loops.num_inputs = 2 : i64} {
  %zero = arith.constant 0 : index
  loops.pack %bf[%row] into %bp[%zero] {depth = 16 : i64, width = 20 : i64, panel = 8 : i64, depth_stride = 20 : i64, lane_stride = 1 : i64} : memref<340xf32>, memref<384xf32>
  %ap = loops.alloc "workspace" : memref<384xf32>
  %bp = loops.alloc "workspace" : memref<384xf32>
  %af = loops.reshape %a : memref<24x16xf32> -> memref<384xf32>
  %bf = loops.reshape %b : memref<17x20xf32> -> memref<340xf32>
  loops.pack %af[%zero] into %ap[%zero] {depth = 16 : i64, width = 24 : i64, panel = 8 : i64, depth_stride = 1 : i64, lane_stride = 16 : i64} : memref<384xf32>, memref<384xf32>
  %row = arith.constant 20 : index
  func.return
}
