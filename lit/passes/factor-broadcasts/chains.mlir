// RUN: gradc-opt %s -p factor-broadcasts,dce | filecheck %s
// RUN: gradc-opt %s -p factor-broadcasts | filecheck %s --check-prefix=NODCE

// neg, mul and div by broadcasts: the scaling is computed on the vectors,
// one full-size multiplication remains.
// CHECK-LABEL: func.func @scalings
// CHECK-NEXT:    %[[M1:.*]] = array.constant dense<-1.000000e+00> : tensor<8xf64>
// CHECK-NEXT:    %[[A:.*]] = array.mul %[[M1]], %v : tensor<8xf64>
// CHECK-NEXT:    %[[C:.*]] = array.div %[[A]], %w : tensor<8xf64>
// CHECK-NEXT:    %[[BC:.*]] = array.broadcast %[[C]] dims [1] : tensor<8xf64> -> tensor<4x8xf64>
// CHECK-NEXT:    %[[Y:.*]] = array.mul %t, %[[BC]] : tensor<4x8xf64>
// CHECK-NEXT:    func.return %[[Y]] : tensor<4x8xf64>
func.func @scalings(%t: tensor<4x8xf64>, %v: tensor<8xf64>, %w: tensor<8xf64>) -> tensor<4x8xf64> {
  %bv = array.broadcast %v dims [1] : tensor<8xf64> -> tensor<4x8xf64>
  %bw = array.broadcast %w dims [1] : tensor<8xf64> -> tensor<4x8xf64>
  %0 = array.neg %t : tensor<4x8xf64>
  %1 = array.mul %bv, %0 : tensor<4x8xf64>
  %2 = array.div %1, %bw : tensor<4x8xf64>
  func.return %2 : tensor<4x8xf64>
}

// add and sub of a vector: the vector goes into e (c*T + e), built once.
// CHECK-LABEL: func.func @sums
// CHECK-NEXT:    %[[NV:.*]] = array.neg %v : tensor<8xf64>
// CHECK-NEXT:    %[[Q:.*]] = array.div %[[NV]], %w : tensor<8xf64>
// CHECK-NEXT:    %[[C:.*]] = array.neg %[[Q]] : tensor<8xf64>
// CHECK-NEXT:    %[[BC:.*]] = array.broadcast %[[C]] dims [1] : tensor<8xf64> -> tensor<4x8xf64>
// CHECK-NEXT:    %[[CT:.*]] = array.mul %t, %[[BC]] : tensor<4x8xf64>
// CHECK-NEXT:    %[[E:.*]] = array.neg %w : tensor<8xf64>
// CHECK-NEXT:    %[[BE:.*]] = array.broadcast %[[E]] dims [1] : tensor<8xf64> -> tensor<4x8xf64>
// CHECK-NEXT:    %[[Y:.*]] = array.add %[[CT]], %[[BE]] : tensor<4x8xf64>
// CHECK-NEXT:    func.return %[[Y]] : tensor<4x8xf64>
func.func @sums(%t: tensor<4x8xf64>, %v: tensor<8xf64>, %w: tensor<8xf64>) -> tensor<4x8xf64> {
  %bv = array.broadcast %v dims [1] : tensor<8xf64> -> tensor<4x8xf64>
  %bw = array.broadcast %w dims [1] : tensor<8xf64> -> tensor<4x8xf64>
  %0 = array.mul %t, %bv : tensor<4x8xf64>
  %1 = array.neg %0 : tensor<4x8xf64>
  %2 = array.div %1, %bw : tensor<4x8xf64>
  %3 = array.add %2, %bw : tensor<4x8xf64>
  %4 = array.neg %3 : tensor<4x8xf64>
  func.return %4 : tensor<4x8xf64>
}

// a*T - b*T is not factored into (a-b)*T: for an infinite T that is +-inf
// where the chain gives NaN (inf - inf). The scalings before it are.
// CHECK-LABEL: func.func @distributive
// CHECK-NEXT:    %bv = array.broadcast %v dims [1] : tensor<8xf64> -> tensor<4x8xf64>
// CHECK-NEXT:    %bw = array.broadcast %w dims [1] : tensor<8xf64> -> tensor<4x8xf64>
// CHECK-NEXT:    %0 = array.mul %t, %bv : tensor<4x8xf64>
// CHECK-NEXT:    %1 = array.mul %t, %bw : tensor<4x8xf64>
// CHECK-NEXT:    %2 = array.sub %0, %1 : tensor<4x8xf64>
// CHECK-NEXT:    func.return %2 : tensor<4x8xf64>
func.func @distributive(%t: tensor<4x8xf64>, %v: tensor<8xf64>, %w: tensor<8xf64>) -> tensor<4x8xf64> {
  %bv = array.broadcast %v dims [1] : tensor<8xf64> -> tensor<4x8xf64>
  %bw = array.broadcast %w dims [1] : tensor<8xf64> -> tensor<4x8xf64>
  %0 = array.mul %t, %bv : tensor<4x8xf64>
  %1 = array.mul %t, %bw : tensor<4x8xf64>
  %2 = array.sub %0, %1 : tensor<4x8xf64>
  func.return %2 : tensor<4x8xf64>
}

// selects with broadcast masks and zeros: the masks combine on the small
// shape; where a mask zeroes, the value is exactly what the chain computes
// there (here -(0 * v) and 0), never a multiple of t.
// CHECK-LABEL: func.func @masks(
// CHECK-NEXT:    %[[C:.*]] = array.neg %v : tensor<8xf64>
// CHECK-NEXT:    %[[BC:.*]] = array.broadcast %[[C]] dims [1] : tensor<8xf64> -> tensor<4x8xf64>
// CHECK-NEXT:    %[[CT:.*]] = array.mul %t, %[[BC]] : tensor<4x8xf64>
// CHECK-NEXT:    %[[F:.*]] = array.constant dense<false> : tensor<8xi1>
// CHECK-NEXT:    %[[T:.*]] = array.constant dense<true> : tensor<8xi1>
// CHECK-NEXT:    %[[NOTM:.*]] = array.select %m, %[[F]], %[[T]] : tensor<8xi1>, tensor<8xi1>
// CHECK-NEXT:    %[[K:.*]] = array.select %n, %[[NOTM]], %[[F]] : tensor<8xi1>, tensor<8xi1>
// CHECK-NEXT:    %[[BK:.*]] = array.broadcast %[[K]] dims [1] : tensor<8xi1> -> tensor<4x8xi1>
// CHECK-NEXT:    %[[ZERO:.*]] = array.constant dense<0.000000e+00> : tensor<8xf64>
// CHECK-NEXT:    %[[ZV:.*]] = array.mul %[[ZERO]], %v : tensor<8xf64>
// CHECK-NEXT:    %[[NZV:.*]] = array.neg %[[ZV]] : tensor<8xf64>
// CHECK-NEXT:    %[[Z:.*]] = array.select %n, %[[NZV]], %[[ZERO]] : tensor<8xi1>, tensor<8xf64>
// CHECK-NEXT:    %[[BZ:.*]] = array.broadcast %[[Z]] dims [1] : tensor<8xf64> -> tensor<4x8xf64>
// CHECK-NEXT:    %[[Y:.*]] = array.select %[[BK]], %[[CT]], %[[BZ]] : tensor<4x8xi1>, tensor<4x8xf64>
// CHECK-NEXT:    func.return %[[Y]] : tensor<4x8xf64>
func.func @masks(%t: tensor<4x8xf64>, %v: tensor<8xf64>, %m: tensor<8xi1>, %n: tensor<8xi1>) -> tensor<4x8xf64> {
  %zero = array.constant dense<0.0> : tensor<4x8xf64>
  %bm = array.broadcast %m dims [1] : tensor<8xi1> -> tensor<4x8xi1>
  %bn = array.broadcast %n dims [1] : tensor<8xi1> -> tensor<4x8xi1>
  %bv = array.broadcast %v dims [1] : tensor<8xf64> -> tensor<4x8xf64>
  %0 = array.select %bm, %zero, %t : tensor<4x8xi1>, tensor<4x8xf64>
  %1 = array.mul %0, %bv : tensor<4x8xf64>
  %2 = array.neg %1 : tensor<4x8xf64>
  %3 = array.select %bn, %2, %zero : tensor<4x8xi1>, tensor<4x8xf64>
  func.return %3 : tensor<4x8xf64>
}

// A mask that the chain's own selects make always true is no mask at all.
// CHECK-LABEL: func.func @masks_cancel
// CHECK-NEXT:    %[[C:.*]] = array.neg %v : tensor<8xf64>
// CHECK-NEXT:    %[[BC:.*]] = array.broadcast %[[C]] dims [1] : tensor<8xf64> -> tensor<4x8xf64>
// CHECK-NEXT:    %[[Y:.*]] = array.mul %t, %[[BC]] : tensor<4x8xf64>
// CHECK-NEXT:    func.return %[[Y]] : tensor<4x8xf64>
func.func @masks_cancel(%t: tensor<4x8xf64>, %v: tensor<8xf64>, %m: tensor<8xi1>) -> tensor<4x8xf64> {
  %zero = array.constant dense<0.0> : tensor<4x8xf64>
  %bm = array.broadcast %m dims [1] : tensor<8xi1> -> tensor<4x8xi1>
  %bv = array.broadcast %v dims [1] : tensor<8xf64> -> tensor<4x8xf64>
  %0 = array.mul %t, %bv : tensor<4x8xf64>
  %1 = array.select %bm, %0, %zero : tensor<4x8xi1>, tensor<4x8xf64>
  %2 = array.select %bm, %zero, %0 : tensor<4x8xi1>, tensor<4x8xf64>
  %3 = array.add %1, %2 : tensor<4x8xf64>
  %4 = array.neg %3 : tensor<4x8xf64>
  func.return %4 : tensor<4x8xf64>
}

// The same with the branches the other way round (once a crash).
// CHECK-LABEL: func.func @masks_cancel_reversed
// CHECK-NEXT:    %[[C:.*]] = array.neg %v : tensor<8xf64>
// CHECK-NEXT:    %[[BC:.*]] = array.broadcast %[[C]] dims [1] : tensor<8xf64> -> tensor<4x8xf64>
// CHECK-NEXT:    %[[Y:.*]] = array.mul %t, %[[BC]] : tensor<4x8xf64>
// CHECK-NEXT:    func.return %[[Y]] : tensor<4x8xf64>
func.func @masks_cancel_reversed(%t: tensor<4x8xf64>, %v: tensor<8xf64>, %m: tensor<8xi1>) -> tensor<4x8xf64> {
  %zero = array.constant dense<0.0> : tensor<4x8xf64>
  %bm = array.broadcast %m dims [1] : tensor<8xi1> -> tensor<4x8xi1>
  %bv = array.broadcast %v dims [1] : tensor<8xf64> -> tensor<4x8xf64>
  %0 = array.mul %t, %bv : tensor<4x8xf64>
  %1 = array.select %bm, %zero, %0 : tensor<4x8xi1>, tensor<4x8xf64>
  %2 = array.select %bm, %0, %zero : tensor<4x8xi1>, tensor<4x8xf64>
  %3 = array.add %1, %2 : tensor<4x8xf64>
  %4 = array.neg %3 : tensor<4x8xf64>
  func.return %4 : tensor<4x8xf64>
}

// Several exits share the small ops; a splat scales like a broadcast.
// CHECK-LABEL: func.func @exits
// CHECK-NEXT:    %[[TWO:.*]] = array.constant dense<2.000000e+00> : tensor<8xf64>
// CHECK-NEXT:    %[[C1:.*]] = array.mul %v, %[[TWO]] : tensor<8xf64>
// CHECK-NEXT:    %[[B1:.*]] = array.broadcast %[[C1]] dims [1] : tensor<8xf64> -> tensor<4x8xf64>
// CHECK-NEXT:    %[[Y1:.*]] = array.mul %t, %[[B1]] : tensor<4x8xf64>
// CHECK-NEXT:    %[[N:.*]] = array.neg %[[C1]] : tensor<8xf64>
// CHECK-NEXT:    %[[C3:.*]] = array.mul %[[N]], %v : tensor<8xf64>
// CHECK-NEXT:    %[[B3:.*]] = array.broadcast %[[C3]] dims [1] : tensor<8xf64> -> tensor<4x8xf64>
// CHECK-NEXT:    %[[Y3:.*]] = array.mul %t, %[[B3]] : tensor<4x8xf64>
// CHECK-NEXT:    %[[E:.*]] = array.exp %[[Y1]] : tensor<4x8xf64>
// CHECK-NEXT:    func.return %[[Y3]], %[[E]] : tensor<4x8xf64>, tensor<4x8xf64>
func.func @exits(%t: tensor<4x8xf64>, %v: tensor<8xf64>) -> (tensor<4x8xf64>, tensor<4x8xf64>) {
  %two = array.constant dense<2.0> : tensor<4x8xf64>
  %bv = array.broadcast %v dims [1] : tensor<8xf64> -> tensor<4x8xf64>
  %0 = array.mul %t, %bv : tensor<4x8xf64>
  %1 = array.mul %0, %two : tensor<4x8xf64>
  %2 = array.neg %1 : tensor<4x8xf64>
  %3 = array.mul %2, %bv : tensor<4x8xf64>
  %4 = array.exp %1 : tensor<4x8xf64>
  func.return %3, %4 : tensor<4x8xf64>, tensor<4x8xf64>
}

// Left alone: a single op; two different bases; a product of two full
// tensors; broadcasts along different dims.
// CHECK-LABEL: func.func @alone
// CHECK-NEXT:    %bv = array.broadcast %v dims [1] : tensor<8xf64> -> tensor<4x8xf64>
// CHECK-NEXT:    %br = array.broadcast %r dims [0] : tensor<4xf64> -> tensor<4x8xf64>
// CHECK-NEXT:    %0 = array.mul %t, %bv : tensor<4x8xf64>
// CHECK-NEXT:    %1 = array.mul %u, %bv : tensor<4x8xf64>
// CHECK-NEXT:    %2 = array.add %0, %1 : tensor<4x8xf64>
// CHECK-NEXT:    %3 = array.neg %2 : tensor<4x8xf64>
// CHECK-NEXT:    %4 = array.mul %t, %u : tensor<4x8xf64>
// CHECK-NEXT:    %5 = array.neg %4 : tensor<4x8xf64>
// CHECK-NEXT:    %6 = array.mul %u, %br : tensor<4x8xf64>
// CHECK-NEXT:    %7 = array.mul %6, %bv : tensor<4x8xf64>
// CHECK-NEXT:    %8 = array.neg %7 : tensor<4x8xf64>
// CHECK-NEXT:    func.return %0, %3, %5, %8
func.func @alone(%t: tensor<4x8xf64>, %u: tensor<4x8xf64>, %v: tensor<8xf64>, %r: tensor<4xf64>) -> (tensor<4x8xf64>, tensor<4x8xf64>, tensor<4x8xf64>, tensor<4x8xf64>) {
  %bv = array.broadcast %v dims [1] : tensor<8xf64> -> tensor<4x8xf64>
  %br = array.broadcast %r dims [0] : tensor<4xf64> -> tensor<4x8xf64>
  %0 = array.mul %t, %bv : tensor<4x8xf64>
  %1 = array.mul %u, %bv : tensor<4x8xf64>
  %2 = array.add %0, %1 : tensor<4x8xf64>
  %3 = array.neg %2 : tensor<4x8xf64>
  %4 = array.mul %t, %u : tensor<4x8xf64>
  %5 = array.neg %4 : tensor<4x8xf64>
  %6 = array.mul %u, %br : tensor<4x8xf64>
  %7 = array.mul %6, %bv : tensor<4x8xf64>
  %8 = array.neg %7 : tensor<4x8xf64>
  func.return %0, %3, %5, %8 : tensor<4x8xf64>, tensor<4x8xf64>, tensor<4x8xf64>, tensor<4x8xf64>
}

// Dead ops save nothing: one live scaling is left alone.
// NODCE-LABEL: func.func @dead
// NODCE-NEXT:    %bv = array.broadcast %v dims [1] : tensor<8xf64> -> tensor<4x8xf64>
// NODCE-NEXT:    %0 = array.mul %t, %bv : tensor<4x8xf64>
// NODCE-NEXT:    %1 = array.neg %0 : tensor<4x8xf64>
// NODCE-NEXT:    %2 = array.mul %1, %bv : tensor<4x8xf64>
// NODCE-NEXT:    func.return %0 : tensor<4x8xf64>
// CHECK-LABEL: func.func @dead
// CHECK-NEXT:    %bv = array.broadcast %v dims [1] : tensor<8xf64> -> tensor<4x8xf64>
// CHECK-NEXT:    %0 = array.mul %t, %bv : tensor<4x8xf64>
// CHECK-NEXT:    func.return %0 : tensor<4x8xf64>
func.func @dead(%t: tensor<4x8xf64>, %v: tensor<8xf64>) -> tensor<4x8xf64> {
  %bv = array.broadcast %v dims [1] : tensor<8xf64> -> tensor<4x8xf64>
  %0 = array.mul %t, %bv : tensor<4x8xf64>
  %1 = array.neg %0 : tensor<4x8xf64>
  %2 = array.mul %1, %bv : tensor<4x8xf64>
  func.return %0 : tensor<4x8xf64>
}
