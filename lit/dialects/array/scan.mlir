// array.scan round-trips in its custom form and through the generic form.
// RUN: gradc-opt %s | gradc-opt | filecheck %s
// RUN: gradc-opt %s --print-op-generic | gradc-opt | filecheck %s

// CHECK-LABEL: func.func @scan
// CHECK-NEXT:    %{{.*}}, %{{.*}} = array.scan length 7 (%[[I:.*]]) carries(%[[A:.*]] = %init : tensor<3xf64>) xs(%[[X:.*]] = %xs : tensor<7x3xf64>) invariants(%[[V:.*]] = %w : tensor<3x3xf64>) -> (tensor<7x3xf64>) {
// CHECK-NEXT:      %[[B:.*]] = array.add %[[A]], %[[X]] : tensor<3xf64>
// CHECK-NEXT:      %[[J:.*]] = array.broadcast %[[I]] dims [] : tensor<f64> -> tensor<3xf64>
// CHECK-NEXT:      %[[D:.*]] = array.mul %[[B]], %[[J]] : tensor<3xf64>
// CHECK-NEXT:      array.yield %[[D]], %[[B]] : tensor<3xf64>, tensor<3xf64>
// CHECK-NEXT:    }
func.func @scan(%init: tensor<3xf64>, %xs: tensor<7x3xf64>, %w: tensor<3x3xf64>) -> (tensor<3xf64>, tensor<7x3xf64>) {
  %c, %ys = array.scan length 7 (%i) carries(%a = %init : tensor<3xf64>) xs(%x = %xs : tensor<7x3xf64>) invariants(%v = %w : tensor<3x3xf64>) -> (tensor<7x3xf64>) {
    %b = array.add %a, %x : tensor<3xf64>
    %j = array.broadcast %i dims [] : tensor<f64> -> tensor<3xf64>
    %d = array.mul %b, %j : tensor<3xf64>
    array.yield %d, %b : tensor<3xf64>, tensor<3xf64>
  }
  func.return %c, %ys : tensor<3xf64>, tensor<7x3xf64>
}

// Empty groups; a scan nested in a scan body.
// CHECK-LABEL: func.func @nested
// CHECK:         array.scan length 2 (%{{.*}}) carries(%{{.*}} = %{{.*}} : tensor<f32>) xs() invariants() -> () {
// CHECK:           array.scan length 3 (%{{.*}}) carries(%{{.*}} = %{{.*}} : tensor<f32>) xs() invariants() -> () {
func.func @nested(%s: tensor<f32>) -> tensor<f32> {
  %r = array.scan length 2 (%i) carries(%a = %s : tensor<f32>) xs() invariants() -> () {
    %q = array.scan length 3 (%k) carries(%b = %a : tensor<f32>) xs() invariants() -> () {
      %c = array.add %b, %b : tensor<f32>
      array.yield %c : tensor<f32>
    }
    array.yield %q : tensor<f32>
  }
  func.return %r : tensor<f32>
}

// i1 carries, xs and per-step outputs (a "done" flag, a mask per step).
// CHECK-LABEL: func.func @flags
// CHECK-NEXT:    %{{.*}}, %{{.*}}, %{{.*}} = array.scan length 4 (%{{.*}}) carries(%{{.*}} = %v : tensor<3xf64>, %{{.*}} = %done : tensor<3xi1>) xs(%{{.*}} = %masks : tensor<4x3xi1>) invariants() -> (tensor<4x3xi1>) {
func.func @flags(%v: tensor<3xf64>, %done: tensor<3xi1>, %masks: tensor<4x3xi1>) -> (tensor<3xf64>, tensor<3xi1>, tensor<4x3xi1>) {
  %r, %d, %ys = array.scan length 4 (%i) carries(%a = %v : tensor<3xf64>, %f = %done : tensor<3xi1>) xs(%m = %masks : tensor<4x3xi1>) invariants() -> (tensor<4x3xi1>) {
    %b = array.mul %a, %a : tensor<3xf64>
    %n = array.select %f, %a, %b : tensor<3xi1>, tensor<3xf64>
    %t = array.constant dense<true> : tensor<3xi1>
    %g = array.select %m, %t, %f : tensor<3xi1>, tensor<3xi1>
    array.yield %n, %g, %g : tensor<3xf64>, tensor<3xi1>, tensor<3xi1>
  }
  func.return %r, %d, %ys : tensor<3xf64>, tensor<3xi1>, tensor<4x3xi1>
}
