// array.threefry2x32 has an element rule: it is computed inline in its
// consumer's loop (no buffer), as 20 rounds of wrapping i32 adds, xors and
// rotations (a left shift plus a logical right shift: their bits are
// disjoint, and gcc vectorizes the unsigned add as a rotate); the key
// schedule's third word is k0 ^ k1 ^ 0x1BD11BDA (466688986).
// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s
// RUN: gradc-opt %s -p lower-array-to-loops,lower-loops-to-c -t c | filecheck %s --check-prefix=C

// CHECK-LABEL: func.func @bits
// CHECK-DAG:     %[[PARITY:.*]] = arith.constant 466688986 : i32
// CHECK-DAG:     %[[R13:.*]] = arith.constant 13 : i32
// CHECK-DAG:     %[[R19:.*]] = arith.constant 19 : i32
// CHECK-NOT:     loops.alloc
// CHECK:         loops.for %[[I:.*]] = 0 to 4 step 1 {
// CHECK-NEXT:      %[[K0:.*]] = loops.load %k0[%[[I]]] : memref<4xi32>
// CHECK-NEXT:      %[[K1:.*]] = loops.load %k1[%[[I]]] : memref<4xi32>
// CHECK-NEXT:      %[[X1:.*]] = loops.load %x[%[[I]]] : memref<4xi32>
// CHECK-NEXT:      %[[KX:.*]] = arith.xori %[[K0]], %[[K1]] : i32
// CHECK-NEXT:      %[[KS2:.*]] = arith.xori %[[KX]], %[[PARITY]] : i32
// CHECK-NEXT:      %[[Y0:.*]] = arith.addi %[[K0]], %[[K0]] : i32
// CHECK-NEXT:      %[[Y1:.*]] = arith.addi %[[X1]], %[[K1]] : i32
// CHECK-NEXT:      %[[S:.*]] = arith.addi %[[Y0]], %[[Y1]] : i32
// CHECK-NEXT:      %[[L:.*]] = arith.shli %[[Y1]], %[[R13]] : i32
// CHECK-NEXT:      %[[R:.*]] = arith.shrui %[[Y1]], %[[R19]] : i32
// CHECK-NEXT:      %[[ROT:.*]] = arith.addi %[[L]], %[[R]] : i32
// CHECK-NEXT:      arith.xori %[[ROT]], %[[S]] : i32
// CHECK-COUNT-18:  arith.shrui
// CHECK:           %[[F:.*]] = arith.sitofp %{{.*}} : i32 to f32
// CHECK-NEXT:      loops.store %[[F]], %out[%[[I]]] : memref<4xf32>

// In the printed source the shifts and their sum work on uint32_t.
// C-LABEL: int bits(
// C:         ((int)((uint32_t)((int)(((uint32_t)[[Y:v[0-9]+]]) << ((uint32_t)13))) + (uint32_t)((int)(((uint32_t)[[Y]]) >> ((uint32_t)19)))))
func.func @bits(%k0: tensor<4xi32>, %k1: tensor<4xi32>, %x: tensor<4xi32>) -> tensor<4xf32> {
  %b = array.threefry2x32 "xor" %k0, %k1, %k0, %x : tensor<4xi32>
  %f = array.convert %b : tensor<4xi32> -> tensor<4xf32>
  func.return %f : tensor<4xf32>
}
