// Every `array` op round-trips: its custom form prints back unchanged, and so
// does the generic form read back in.
// RUN: gradc-opt %s | gradc-opt | filecheck %s
// RUN: gradc-opt %s --print-op-generic | gradc-opt | filecheck %s
// Shape parameters are properties:
// RUN: gradc-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC

// CHECK-LABEL: func.func @constants
func.func @constants() -> (tensor<2x2xf32>, tensor<3xf64>, tensor<2xi1>) {
  // CHECK-NEXT: %{{.*}} = array.constant dense<1.500000e+00> : tensor<2x2xf32>
  %0 = array.constant dense<1.5> : tensor<2x2xf32>
  // CHECK-NEXT: %{{.*}} = array.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf64>
  %1 = array.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf64>
  // CHECK-NEXT: %{{.*}} = array.constant dense<[true, false]> : tensor<2xi1>
  %2 = array.constant dense<[true, false]> : tensor<2xi1>
  func.return %0, %1, %2 : tensor<2x2xf32>, tensor<3xf64>, tensor<2xi1>
}

// CHECK-LABEL: func.func @unary
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
func.func @unary(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK-NEXT: %[[A:.*]] = array.neg %[[X]] : tensor<4xf32>
  // CHECK-NEXT: %[[B:.*]] = array.exp %[[A]] : tensor<4xf32>
  // CHECK-NEXT: %[[C:.*]] = array.log %[[B]] : tensor<4xf32>
  // CHECK-NEXT: %[[D:.*]] = array.tanh %[[C]] : tensor<4xf32>
  // CHECK-NEXT: %[[E:.*]] = array.sin %[[D]] : tensor<4xf32>
  // CHECK-NEXT: %[[F:.*]] = array.cos %[[E]] : tensor<4xf32>
  // CHECK-NEXT: %[[G:.*]] = array.sqrt %[[F]] : tensor<4xf32>
  // CHECK-NEXT: %[[H:.*]] = array.abs %[[G]] : tensor<4xf32>
  // CHECK-NEXT: %[[I:.*]] = array.sinh %[[H]] : tensor<4xf32>
  // CHECK-NEXT: func.return %[[I]] : tensor<4xf32>
  %a = array.neg %x : tensor<4xf32>
  %b = array.exp %a : tensor<4xf32>
  %c = array.log %b : tensor<4xf32>
  %d = array.tanh %c : tensor<4xf32>
  %e = array.sin %d : tensor<4xf32>
  %f = array.cos %e : tensor<4xf32>
  %g = array.sqrt %f : tensor<4xf32>
  %h = array.abs %g : tensor<4xf32>
  %i = array.sinh %h : tensor<4xf32>
  func.return %i : tensor<4xf32>
}

// CHECK-LABEL: func.func @unary_math
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf64>)
func.func @unary_math(%x: tensor<2x3xf64>) -> tensor<2x3xf64> {
  // CHECK-NEXT: %[[U0:.*]] = array.cosh %[[X]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[U1:.*]] = array.tan %[[U0]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[U2:.*]] = array.asin %[[U1]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[U3:.*]] = array.acos %[[U2]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[U4:.*]] = array.atan %[[U3]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[U5:.*]] = array.asinh %[[U4]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[U6:.*]] = array.acosh %[[U5]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[U7:.*]] = array.atanh %[[U6]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[U8:.*]] = array.log1p %[[U7]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[U9:.*]] = array.expm1 %[[U8]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[U10:.*]] = array.log2 %[[U9]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[U11:.*]] = array.log10 %[[U10]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[U12:.*]] = array.exp2 %[[U11]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[U13:.*]] = array.erf %[[U12]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[U14:.*]] = array.floor %[[U13]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[U15:.*]] = array.ceil %[[U14]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[U16:.*]] = array.roundeven %[[U15]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[U17:.*]] = array.trunc %[[U16]] : tensor<2x3xf64>
  // CHECK-NEXT: func.return %[[U17]] : tensor<2x3xf64>
  %u0 = array.cosh %x : tensor<2x3xf64>
  %u1 = array.tan %u0 : tensor<2x3xf64>
  %u2 = array.asin %u1 : tensor<2x3xf64>
  %u3 = array.acos %u2 : tensor<2x3xf64>
  %u4 = array.atan %u3 : tensor<2x3xf64>
  %u5 = array.asinh %u4 : tensor<2x3xf64>
  %u6 = array.acosh %u5 : tensor<2x3xf64>
  %u7 = array.atanh %u6 : tensor<2x3xf64>
  %u8 = array.log1p %u7 : tensor<2x3xf64>
  %u9 = array.expm1 %u8 : tensor<2x3xf64>
  %u10 = array.log2 %u9 : tensor<2x3xf64>
  %u11 = array.log10 %u10 : tensor<2x3xf64>
  %u12 = array.exp2 %u11 : tensor<2x3xf64>
  %u13 = array.erf %u12 : tensor<2x3xf64>
  %u14 = array.floor %u13 : tensor<2x3xf64>
  %u15 = array.ceil %u14 : tensor<2x3xf64>
  %u16 = array.roundeven %u15 : tensor<2x3xf64>
  %u17 = array.trunc %u16 : tensor<2x3xf64>
  func.return %u17 : tensor<2x3xf64>
}

// CHECK-LABEL: func.func @binary
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf64>, %[[Y:.*]]: tensor<2x3xf64>)
func.func @binary(%x: tensor<2x3xf64>, %y: tensor<2x3xf64>) -> tensor<2x3xf64> {
  // CHECK-NEXT: %[[A:.*]] = array.add %[[X]], %[[Y]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[B:.*]] = array.sub %[[A]], %[[Y]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[C:.*]] = array.mul %[[B]], %[[X]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[D:.*]] = array.div %[[C]], %[[Y]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[E:.*]] = array.max %[[D]], %[[X]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[F:.*]] = array.min %[[E]], %[[Y]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[G:.*]] = array.pow %[[F]], %[[X]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[H:.*]] = array.atan2 %[[G]], %[[X]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[I:.*]] = array.copysign %[[H]], %[[Y]] : tensor<2x3xf64>
  // CHECK-NEXT: %[[J:.*]] = array.erfc %[[I]] : tensor<2x3xf64>
  // CHECK-NEXT: func.return %[[J]] : tensor<2x3xf64>
  %a = array.add %x, %y : tensor<2x3xf64>
  %b = array.sub %a, %y : tensor<2x3xf64>
  %c = array.mul %b, %x : tensor<2x3xf64>
  %d = array.div %c, %y : tensor<2x3xf64>
  %e = array.max %d, %x : tensor<2x3xf64>
  %f = array.min %e, %y : tensor<2x3xf64>
  %g = array.pow %f, %x : tensor<2x3xf64>
  %h = array.atan2 %g, %x : tensor<2x3xf64>
  %i = array.copysign %h, %y : tensor<2x3xf64>
  %j = array.erfc %i : tensor<2x3xf64>
  func.return %j : tensor<2x3xf64>
}

// CHECK-LABEL: func.func @compare_select_convert
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>, %[[Y:.*]]: tensor<4xf32>)
func.func @compare_select_convert(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf64>) {
  // CHECK-NEXT: %[[LT:.*]] = array.compare lt %[[X]], %[[Y]] : tensor<4xf32>
  // CHECK-NEXT: %{{.*}} = array.compare le %[[X]], %[[Y]] : tensor<4xf32>
  // CHECK-NEXT: %{{.*}} = array.compare gt %[[X]], %[[Y]] : tensor<4xf32>
  // CHECK-NEXT: %{{.*}} = array.compare ge %[[X]], %[[Y]] : tensor<4xf32>
  // CHECK-NEXT: %{{.*}} = array.compare eq %[[X]], %[[Y]] : tensor<4xf32>
  // CHECK-NEXT: %{{.*}} = array.compare ne %[[X]], %[[Y]] {tag} : tensor<4xf32>
  // CHECK-NEXT: %[[S:.*]] = array.select %[[LT]], %[[X]], %[[Y]] : tensor<4xi1>, tensor<4xf32>
  // CHECK-NEXT: %[[C:.*]] = array.convert %[[S]] : tensor<4xf32> -> tensor<4xf64>
  // CHECK-NEXT: %{{.*}} = array.convert %[[LT]] : tensor<4xi1> -> tensor<4xf32>
  %lt = array.compare lt %x, %y : tensor<4xf32>
  %le = array.compare le %x, %y : tensor<4xf32>
  %gt = array.compare gt %x, %y : tensor<4xf32>
  %ge = array.compare ge %x, %y : tensor<4xf32>
  %eq = array.compare eq %x, %y : tensor<4xf32>
  %ne = array.compare ne %x, %y {tag} : tensor<4xf32>
  %s = array.select %lt, %x, %y : tensor<4xi1>, tensor<4xf32>
  %c = array.convert %s : tensor<4xf32> -> tensor<4xf64>
  %m = array.convert %lt : tensor<4xi1> -> tensor<4xf32>
  func.return %s, %c : tensor<4xf32>, tensor<4xf64>
}

// CHECK-LABEL: func.func @shapes
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<3xf32>)
func.func @shapes(%x: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<4x3xf32> {
  // CHECK-NEXT: %[[BC:.*]] = array.broadcast %[[B]] dims [1] : tensor<3xf32> -> tensor<2x3xf32>
  // CHECK-NEXT: %{{.*}} = array.reshape %[[X]] : tensor<2x3xf32> -> tensor<6xf32>
  // CHECK-NEXT: %[[T:.*]] = array.transpose %[[X]] perm [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  // CHECK-NEXT: %{{.*}} = array.slice %[[T]] [0:3:2, 1:2:1] : tensor<3x2xf32> -> tensor<2x1xf32>
  // CHECK-NEXT: %{{.*}} = array.slice %[[T]] [2:-1:-1, 1:0:-1] : tensor<3x2xf32> -> tensor<3x1xf32>
  // CHECK-NEXT: %[[CAT:.*]] = array.concatenate axis 0 %[[X]], %[[BC]] : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  // CHECK-NEXT: func.return %[[CAT]] : tensor<4x3xf32>
  // GENERIC: "array.broadcast"(%{{.*}}) <{dims = array<i64: 1>}> : (tensor<3xf32>) -> tensor<2x3xf32>
  // GENERIC: "array.transpose"(%{{.*}}) <{permutation = array<i64: 1, 0>}> : (tensor<2x3xf32>) -> tensor<3x2xf32>
  // GENERIC: "array.slice"(%{{.*}}) <{start = array<i64: 0, 1>, limit = array<i64: 3, 2>, stride = array<i64: 2, 1>}>
  // GENERIC: "array.concatenate"(%{{.*}}, %{{.*}}) <{axis = 0 : i64}>
  %bc = array.broadcast %b dims [1] : tensor<3xf32> -> tensor<2x3xf32>
  %r = array.reshape %x : tensor<2x3xf32> -> tensor<6xf32>
  %t = array.transpose %x perm [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  %s = array.slice %t [0:3:2, 1:2:1] : tensor<3x2xf32> -> tensor<2x1xf32>
  %rev = array.slice %t [2:-1:-1, 1:0:-1] : tensor<3x2xf32> -> tensor<3x1xf32>
  %cat = array.concatenate axis 0 %x, %bc : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  func.return %cat : tensor<4x3xf32>
}

// CHECK-LABEL: func.func @contractions
// CHECK-SAME:    (%[[A:.*]]: tensor<5x2x3xf32>, %[[B:.*]]: tensor<5x3x4xf32>)
func.func @contractions(%a: tensor<5x2x3xf32>, %b: tensor<5x3x4xf32>) -> (tensor<5x2x4xf32>, tensor<2xf32>, tensor<5xf32>) {
  // CHECK-NEXT: %[[M:.*]] = array.matmul %[[A]], %[[B]] : tensor<5x2x3xf32>, tensor<5x3x4xf32> -> tensor<5x2x4xf32>
  // CHECK-NEXT: %{{.*}} = array.reduce_sum %[[M]] axes [0, 2] : tensor<5x2x4xf32> -> tensor<2xf32>
  // CHECK-NEXT: %{{.*}} = array.reduce_max %[[M]] axes [1, 2] : tensor<5x2x4xf32> -> tensor<5xf32>
  %m = array.matmul %a, %b : tensor<5x2x3xf32>, tensor<5x3x4xf32> -> tensor<5x2x4xf32>
  %s = array.reduce_sum %m axes [0, 2] : tensor<5x2x4xf32> -> tensor<2xf32>
  %x = array.reduce_max %m axes [1, 2] : tensor<5x2x4xf32> -> tensor<5xf32>
  func.return %m, %s, %x : tensor<5x2x4xf32>, tensor<2xf32>, tensor<5xf32>
}

// The table of a gather is a property (i32, or i64 past 2^31).
// CHECK-LABEL: func.func @gather
// CHECK-SAME:    (%[[X:.*]]: tensor<3x4xf32>)
func.func @gather(%x: tensor<3x4xf32>) -> (tensor<2x4xf32>, tensor<2x2xf32>) {
  // CHECK-NEXT: %{{.*}} = array.gather %[[X]] axes [0] indices dense<[[2], [0]]> : tensor<2x1xi32> : tensor<3x4xf32> -> tensor<2x4xf32>
  // CHECK-NEXT: %{{.*}} = array.gather %[[X]] axes [1, 0] indices dense<{{\[\[}}[3, 0], [1, 2]], {{\[\[}}0, 0], [0, 1]]]> : tensor<2x2x2xi64> : tensor<3x4xf32> -> tensor<2x2xf32>
  // GENERIC: "array.gather"(%{{.*}}) <{axes = array<i64: 0>, indices = dense<{{\[\[}}2], [0]]> : tensor<2x1xi32>}>
  %g = array.gather %x axes [0] indices dense<[[2], [0]]> : tensor<2x1xi32> : tensor<3x4xf32> -> tensor<2x4xf32>
  %p = array.gather %x axes [1, 0] indices dense<[[[3, 0], [1, 2]], [[0, 0], [0, 1]]]> : tensor<2x2x2xi64> : tensor<3x4xf32> -> tensor<2x2xf32>
  func.return %g, %p : tensor<2x4xf32>, tensor<2x2xf32>
}

// Gathers and scatters at run-time positions: the indices are an i32/i64 operand.
// CHECK-LABEL: func.func @indexed
// CHECK-SAME:    (%[[X:.*]]: tensor<3x4xf32>, %[[I:.*]]: tensor<2x1xi32>, %[[V:.*]]: tensor<2x4xf32>, %[[J:.*]]: tensor<5x2xi64>)
func.func @indexed(%x: tensor<3x4xf32>, %i: tensor<2x1xi32>, %v: tensor<2x4xf32>, %j: tensor<5x2xi64>) -> (tensor<2x4xf32>, tensor<5xf32>, tensor<3x4xf32>, tensor<3x4xf32>) {
  // CHECK-NEXT: %{{.*}} = array.dynamic_gather %[[X]], %[[I]] axes [0] mode "clip" : tensor<3x4xf32>, tensor<2x1xi32> -> tensor<2x4xf32>
  // CHECK-NEXT: %{{.*}} = array.dynamic_gather %[[X]], %[[J]] axes [1, 0] mode "fill" : tensor<3x4xf32>, tensor<5x2xi64> -> tensor<5xf32>
  // CHECK-NEXT: %{{.*}} = array.scatter %[[X]], %[[I]], %[[V]] axes [0] kind "add" mode "drop" : tensor<3x4xf32>, tensor<2x1xi32>, tensor<2x4xf32> -> tensor<3x4xf32>
  // CHECK-NEXT: %{{.*}} = array.scatter %[[X]], %[[I]], %[[V]] axes [0] kind "set" mode "clip" : tensor<3x4xf32>, tensor<2x1xi32>, tensor<2x4xf32> -> tensor<3x4xf32>
  // GENERIC: "array.dynamic_gather"(%{{.*}}, %{{.*}}) <{axes = array<i64: 0>, mode = "clip"}>
  // GENERIC: "array.scatter"(%{{.*}}, %{{.*}}, %{{.*}}) <{axes = array<i64: 0>, kind = "add", mode = "drop"}>
  %g = array.dynamic_gather %x, %i axes [0] mode "clip" : tensor<3x4xf32>, tensor<2x1xi32> -> tensor<2x4xf32>
  %p = array.dynamic_gather %x, %j axes [1, 0] mode "fill" : tensor<3x4xf32>, tensor<5x2xi64> -> tensor<5xf32>
  %a = array.scatter %x, %i, %v axes [0] kind "add" mode "drop" : tensor<3x4xf32>, tensor<2x1xi32>, tensor<2x4xf32> -> tensor<3x4xf32>
  %s = array.scatter %x, %i, %v axes [0] kind "set" mode "clip" : tensor<3x4xf32>, tensor<2x1xi32>, tensor<2x4xf32> -> tensor<3x4xf32>
  func.return %g, %p, %a, %s : tensor<2x4xf32>, tensor<5xf32>, tensor<3x4xf32>, tensor<3x4xf32>
}

// Dynamic slices: one 0-d start per dimension, of any numeric element type.
// CHECK-LABEL: func.func @dynamic
// CHECK-SAME:    (%[[X:.*]]: tensor<5x4xf64>, %[[I:.*]]: tensor<f64>, %[[J:.*]]: tensor<f32>, %[[U:.*]]: tensor<2x4xf64>)
func.func @dynamic(%x: tensor<5x4xf64>, %i: tensor<f64>, %j: tensor<f32>, %u: tensor<2x4xf64>) -> (tensor<1x4xf64>, tensor<5x4xf64>) {
  // CHECK-NEXT: %{{.*}} = array.dynamic_slice %[[X]][%[[I]], %[[J]]] sizes [1, 4] : tensor<5x4xf64>, tensor<f64>, tensor<f32> -> tensor<1x4xf64>
  // CHECK-NEXT: %{{.*}} = array.dynamic_update_slice %[[X]], %[[U]][%[[I]], %[[J]]] : tensor<5x4xf64>, tensor<2x4xf64>, tensor<f64>, tensor<f32> -> tensor<5x4xf64>
  // GENERIC: "array.dynamic_slice"(%{{.*}}, %{{.*}}, %{{.*}}) <{sizes = array<i64: 1, 4>}>
  // GENERIC: "array.dynamic_update_slice"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
  %s = array.dynamic_slice %x[%i, %j] sizes [1, 4] : tensor<5x4xf64>, tensor<f64>, tensor<f32> -> tensor<1x4xf64>
  %w = array.dynamic_update_slice %x, %u[%i, %j] : tensor<5x4xf64>, tensor<2x4xf64>, tensor<f64>, tensor<f32> -> tensor<5x4xf64>
  func.return %s, %w : tensor<1x4xf64>, tensor<5x4xf64>
}

// Integers: constants, wrapping arithmetic, comparisons, conversions, sums
// and argmax (an i64 index).
// CHECK-LABEL: func.func @integers
// CHECK-SAME:    (%[[I:.*]]: tensor<4xi32>, %[[F:.*]]: tensor<2x4xf32>)
func.func @integers(%i: tensor<4xi32>, %f: tensor<2x4xf32>) -> (tensor<4xi64>, tensor<4xi1>, tensor<i32>, tensor<2xi64>, tensor<4xi32>) {
  // CHECK-NEXT: %[[K:.*]] = array.constant dense<[1, -2, 2147483647, -2147483648]> : tensor<4xi32>
  // CHECK-NEXT: %[[S:.*]] = array.add %[[I]], %[[K]] : tensor<4xi32>
  // CHECK-NEXT: %[[M:.*]] = array.mul %[[S]], %[[S]] : tensor<4xi32>
  // CHECK-NEXT: %[[N:.*]] = array.neg %[[M]] : tensor<4xi32>
  // CHECK-NEXT: %[[A:.*]] = array.abs %[[N]] : tensor<4xi32>
  // CHECK-NEXT: %[[X:.*]] = array.max %[[A]], %[[I]] : tensor<4xi32>
  // CHECK-NEXT: %[[W:.*]] = array.convert %[[X]] : tensor<4xi32> -> tensor<4xi64>
  // CHECK-NEXT: %[[LT:.*]] = array.compare lt %[[I]], %[[K]] : tensor<4xi32>
  // CHECK-NEXT: %[[R:.*]] = array.reduce_sum %[[I]] axes [0] : tensor<4xi32> -> tensor<i32>
  // CHECK-NEXT: %[[AM:.*]] = array.argmax %[[F]] axis 1 : tensor<2x4xf32> -> tensor<2xi64>
  // CHECK-NEXT: %[[T:.*]] = array.convert %[[F]] : tensor<2x4xf32> -> tensor<2x4xi32>
  // CHECK-NEXT: %[[SL:.*]] = array.reduce_max %[[T]] axes [0] : tensor<2x4xi32> -> tensor<4xi32>
  // GENERIC: "array.argmax"(%{{.*}}) <{axis = 1 : i64}> : (tensor<2x4xf32>) -> tensor<2xi64>
  %k = array.constant dense<[1, -2, 2147483647, -2147483648]> : tensor<4xi32>
  %s = array.add %i, %k : tensor<4xi32>
  %m = array.mul %s, %s : tensor<4xi32>
  %n = array.neg %m : tensor<4xi32>
  %a = array.abs %n : tensor<4xi32>
  %x = array.max %a, %i : tensor<4xi32>
  %w = array.convert %x : tensor<4xi32> -> tensor<4xi64>
  %lt = array.compare lt %i, %k : tensor<4xi32>
  %r = array.reduce_sum %i axes [0] : tensor<4xi32> -> tensor<i32>
  %am = array.argmax %f axis 1 : tensor<2x4xf32> -> tensor<2xi64>
  %t = array.convert %f : tensor<2x4xf32> -> tensor<2x4xi32>
  %sl = array.reduce_max %t axes [0] : tensor<2x4xi32> -> tensor<4xi32>
  func.return %w, %lt, %r, %am, %sl : tensor<4xi64>, tensor<4xi1>, tensor<i32>, tensor<2xi64>, tensor<4xi32>
}

// Bitwise ops on integers and bools.
// CHECK-LABEL: func.func @bitwise
func.func @bitwise(%i: tensor<4xi64>, %b: tensor<4xi1>) -> (tensor<4xi64>, tensor<4xi1>) {
  // CHECK-NEXT: %[[A:.*]] = array.and %{{.*}}, %{{.*}} : tensor<4xi64>
  // CHECK-NEXT: %[[O:.*]] = array.or %[[A]], %{{.*}} : tensor<4xi64>
  // CHECK-NEXT: %[[X:.*]] = array.xor %[[O]], %{{.*}} : tensor<4xi64>
  // CHECK-NEXT: %[[L:.*]] = array.shl %[[X]], %{{.*}} : tensor<4xi64>
  // CHECK-NEXT: %[[R:.*]] = array.shr %[[L]], %{{.*}} : tensor<4xi64>
  // CHECK-NEXT: %[[N:.*]] = array.invert %[[R]] : tensor<4xi64>
  // CHECK-NEXT: %[[M:.*]] = array.fmod %[[N]], %{{.*}} : tensor<4xi64>
  // CHECK-NEXT: %[[D:.*]] = array.div %[[M]], %{{.*}} : tensor<4xi64>
  // CHECK-NEXT: %[[BX:.*]] = array.xor %{{.*}}, %{{.*}} : tensor<4xi1>
  // CHECK-NEXT: %[[BN:.*]] = array.invert %[[BX]] : tensor<4xi1>
  %a = array.and %i, %i : tensor<4xi64>
  %o = array.or %a, %i : tensor<4xi64>
  %x = array.xor %o, %i : tensor<4xi64>
  %l = array.shl %x, %i : tensor<4xi64>
  %r = array.shr %l, %i : tensor<4xi64>
  %n = array.invert %r : tensor<4xi64>
  %m = array.fmod %n, %i : tensor<4xi64>
  %d = array.div %m, %i : tensor<4xi64>
  %bx = array.xor %b, %b : tensor<4xi1>
  %bn = array.invert %bx : tensor<4xi1>
  func.return %d, %bn : tensor<4xi64>, tensor<4xi1>
}
