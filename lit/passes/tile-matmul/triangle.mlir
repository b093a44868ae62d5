// A product of which only the upper triangle is read (`triangle "upper"`,
// what the mirror of a Hessian asks for): each 4 x 8 register tile runs
// under a switch on ceil(reach / 4), reach = jr + 8 - ir how far the tile
// reaches into the triangle: 0 or less, nothing (the tile is below the
// diagonal); 1 vector, only the tile's right half (columns jr + 4 ...,
// where it crosses the diagonal); more, the whole tile.
// RUN: gradc-opt %s -p 'tile-matmul{vector-bytes=32 mr=4 nr=8}' | filecheck %s

// CHECK-LABEL: func.func @upper
// CHECK:         %[[C:.*]] = loops.reshape %c : memref<24x24xf64> -> memref<576xf64>
// CHECK-NEXT:    loops.for %[[IR:.*]] = 0 to 24 step 4 {
// CHECK-NEXT:      loops.for %[[JR:.*]] = 0 to 24 step 8 {
// CHECK-NEXT:        %[[MINUS:.*]] = arith.muli %[[IR]], %{{.*}} : index
// CHECK-NEXT:        %[[D:.*]] = arith.addi %[[JR]], %[[MINUS]] : index
// CHECK-NEXT:        %[[R:.*]] = arith.addi %[[D]], %{{.*}} : index
// CHECK-NEXT:        %[[R64:.*]] = arith.index_cast %[[R]] : index to i64
// CHECK-NEXT:        %[[LANES:.*]] = arith.constant 4 : i64
// CHECK-NEXT:        %[[V:.*]] = arith.divsi %[[R64]], %[[LANES]] : i64
// CHECK-NEXT:        loops.switch %[[V]] : i64 {
// CHECK-NEXT:        }, {
// CHECK:               loops.microkernel {{.*}} {m = 4 : i64, n = 4 : i64, k = 3 : i64
// CHECK-NEXT:        }, {
// CHECK:               loops.microkernel {{.*}} {m = 4 : i64, n = 8 : i64, k = 3 : i64
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return
func.func @upper(%a: memref<24x3xf64>, %b: memref<3x24xf64>, %c: memref<24x24xf64>) attributes {loops.num_inputs = 2 : i64} {
  loops.matmul %a, %b into %c triangle "upper" : memref<24x3xf64>, memref<3x24xf64> into memref<24x24xf64>
  func.return
}

// Tiles whose place is static are kept or dropped at compile time: the one
// 4 x 4 tile, on the diagonal, is kept whole for "lower".
// CHECK-LABEL: func.func @lower
// CHECK-NOT:     loops.switch
// CHECK:         loops.microkernel {{.*}} {m = 4 : i64, n = 4 : i64, k = 3 : i64
// CHECK-NOT:     loops.switch
// CHECK:         func.return
func.func @lower(%a: memref<4x3xf64>, %b: memref<3x4xf64>, %c: memref<4x4xf64>) attributes {loops.num_inputs = 2 : i64} {
  loops.matmul %a, %b into %c triangle "lower" : memref<4x3xf64>, memref<3x4xf64> into memref<4x4xf64>
  func.return
}
