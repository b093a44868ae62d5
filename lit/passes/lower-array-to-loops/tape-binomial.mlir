// The same scan VJP with autodiff.checkpoint = "binomial(snapshots=2)": the
// forward scan becomes the schedule's forward phase (each step once: untaped
// in advance, pushing in taped, the carry stored into snapshot slots), the
// reverse scan its reverse phase, which recomputes states into a state of
// its own (restore, advance, taped) and pops the tape in adjoint. Two
// snapshot slots of the 3-element state; a one-entry tape; 2 * 4 - C(4, 3) = 4
// recomputed steps (the revolve formula, repetition number 2).
// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s

// CHECK-LABEL: func.func @pair
// CHECK-SAME:    autodiff.tape_bytes = 24 : i64, autodiff.snapshot_bytes = 48 : i64, autodiff.recomputed_steps = 4 : i64
// CHECK:         %[[TAPE:.*]] = loops.alloc "workspace" : memref<1x3xf64>
// CHECK-NEXT:    %[[SNAP:.*]] = loops.alloc "workspace" : memref<2x3xf64>
// CHECK:         autodiff.schedule "binomial(snapshots=2)" forward steps 4 state 24 entry 24 advance(%[[I:.*]]) {
// CHECK:           math.tanh
// CHECK-NOT:       autodiff.push
// CHECK:         } store(%[[K:.*]]) {
// CHECK:           loops.store %{{.*}}, %[[SNAP]][%[[K]], %{{.*}}] : memref<2x3xf64>
// CHECK:         } restore(%{{.*}}) {
// CHECK:         } taped(%{{.*}}, %[[S:.*]]) {
// CHECK:           autodiff.push %{{.*}}, %[[TAPE]][%[[S]]] : memref<3xf64> into memref<1x3xf64>
// CHECK:         } adjoint(%{{.*}}, %{{.*}}) {
// CHECK-NEXT:    }
// CHECK:         autodiff.schedule "binomial(snapshots=2)" reverse steps 4 state 24 entry 24 advance(%{{.*}}) {
// CHECK:           math.tanh
// CHECK:         } store(%{{.*}}) {
// CHECK:         } restore(%[[R:.*]]) {
// CHECK:           loops.load %[[SNAP]][%[[R]], %{{.*}}] : memref<2x3xf64>
// CHECK:           loops.store %{{.*}}, %{{.*}}[%{{.*}}] : memref<3xf64>
// CHECK:         } taped(%{{.*}}, %{{.*}}) {
// CHECK:           autodiff.push
// CHECK:         } adjoint(%{{.*}}, %[[P:.*]]) {
// CHECK:           autodiff.pop %[[TAPE]][%[[P]]] into %{{.*}} : memref<1x3xf64> into memref<3xf64>
// CHECK:         }
func.func @pair(%x0: tensor<3xf64>, %seed: tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>) {
  %x, %t = array.scan length 4 (%i) carries(%x1 = %x0 : tensor<3xf64>) xs() invariants() -> (tensor<4x3xf64>) {
    %h = array.tanh %x1 : tensor<3xf64>
    %n = array.add %x1, %h : tensor<3xf64>
    array.yield %n, %h : tensor<3xf64>, tensor<3xf64>
  } {autodiff.tape = 1 : i64, autodiff.checkpoint = "binomial(snapshots=2)"}
  %g = array.scan length 4 reverse (%j) carries(%g1 = %seed : tensor<3xf64>) xs(%h1 = %t : tensor<4x3xf64>) invariants() -> () {
    %one = array.constant dense<1.0> : tensor<3xf64>
    %sq = array.mul %h1, %h1 : tensor<3xf64>
    %d = array.sub %one, %sq : tensor<3xf64>
    %gd = array.mul %g1, %d : tensor<3xf64>
    %n = array.add %g1, %gd : tensor<3xf64>
    array.yield %n : tensor<3xf64>
  }
  func.return %x, %g : tensor<3xf64>, tensor<3xf64>
}
