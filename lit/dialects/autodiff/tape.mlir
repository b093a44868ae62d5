// The loop-level `autodiff` ops (tape push/pop, a schedule phase) round-trip,
// in their custom form and in the generic form.
// RUN: gradc-opt %s | gradc-opt | filecheck %s
// RUN: gradc-opt %s --print-op-generic | gradc-opt | filecheck %s

// CHECK-LABEL: func.func @tape
// CHECK:         autodiff.push %[[E:.*]], %[[T:.*]][%[[S:.*]]] : memref<4xf64> into memref<7x4xf64>
// CHECK-NEXT:    autodiff.pop %[[T]][%[[S]]] into %[[E]] : memref<7x4xf64> into memref<4xf64>
// CHECK-NEXT:    autodiff.schedule "binomial(snapshots=2)" reverse steps 7 state 32 entry 32 advance(%[[I:.*]]) {
// CHECK-NEXT:      arith.constant
// CHECK-NEXT:    } store(%{{.*}}) {
// CHECK-NEXT:    } restore(%{{.*}}) {
// CHECK-NEXT:    } taped(%{{.*}}, %[[TS:.*]]) {
// CHECK-NEXT:      autodiff.push %[[E]], %[[T]][%[[TS]]] : memref<4xf64> into memref<7x4xf64>
// CHECK-NEXT:    } adjoint(%{{.*}}, %[[AS:.*]]) {
// CHECK-NEXT:      autodiff.pop %[[T]][%[[AS]]] into %[[E]] : memref<7x4xf64> into memref<4xf64>
// CHECK-NEXT:    }
func.func @tape(%tape: memref<7x4xf64>, %e: memref<4xf64>, %s: index) {
  autodiff.push %e, %tape[%s] : memref<4xf64> into memref<7x4xf64>
  autodiff.pop %tape[%s] into %e : memref<7x4xf64> into memref<4xf64>
  autodiff.schedule "binomial(snapshots=2)" reverse steps 7 state 32 entry 32 advance(%i) {
    %c = arith.constant 1 : index
  } store(%k) {
  } restore(%k) {
  } taped(%i, %t) {
    autodiff.push %e, %tape[%t] : memref<4xf64> into memref<7x4xf64>
  } adjoint(%i, %t) {
    autodiff.pop %tape[%t] into %e : memref<7x4xf64> into memref<4xf64>
  }
  func.return
}
