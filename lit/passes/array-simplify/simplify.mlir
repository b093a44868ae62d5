// array-simplify: identity shape ops vanish, chains fold, neutral elements
// drop out and all-constant ops are evaluated; dce then removes what is dead.
// RUN: gradc-opt %s -p array-simplify,dce | filecheck %s

// CHECK-LABEL: func.func @identities
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT:    func.return %[[X]] : tensor<2x3xf32>
func.func @identities(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = array.transpose %x perm [0, 1] : tensor<2x3xf32> -> tensor<2x3xf32>
  %1 = array.reshape %0 : tensor<2x3xf32> -> tensor<2x3xf32>
  %2 = array.slice %1 [0:2:1, 0:3:1] : tensor<2x3xf32> -> tensor<2x3xf32>
  %3 = array.neg %2 : tensor<2x3xf32>
  %4 = array.neg %3 : tensor<2x3xf32>
  func.return %4 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @chains
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT:    %[[T:.*]] = array.transpose %[[X]] perm [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
// CHECK-NEXT:    %[[R:.*]] = array.reshape %[[T]] : tensor<4x2x3xf32> -> tensor<24xf32>
// CHECK-NEXT:    func.return %[[R]] : tensor<24xf32>
func.func @chains(%x: tensor<2x3x4xf32>) -> tensor<24xf32> {
  %0 = array.transpose %x perm [1, 2, 0] : tensor<2x3x4xf32> -> tensor<3x4x2xf32>
  %1 = array.transpose %0 perm [1, 2, 0] : tensor<3x4x2xf32> -> tensor<4x2x3xf32>
  %2 = array.reshape %1 : tensor<4x2x3xf32> -> tensor<8x3xf32>
  %3 = array.reshape %2 : tensor<8x3xf32> -> tensor<24xf32>
  func.return %3 : tensor<24xf32>
}

// CHECK-LABEL: func.func @neutral_elements
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf64>)
// CHECK-NEXT:    func.return %[[X]] : tensor<4xf64>
func.func @neutral_elements(%x: tensor<4xf64>) -> tensor<4xf64> {
  %zero = array.constant dense<0.0> : tensor<4xf64>
  %one = array.constant dense<1.0> : tensor<4xf64>
  %0 = array.add %x, %zero : tensor<4xf64>
  %1 = array.mul %one, %0 : tensor<4xf64>
  %2 = array.div %1, %one : tensor<4xf64>
  %3 = array.sub %2, %zero : tensor<4xf64>
  func.return %3 : tensor<4xf64>
}

// CHECK-LABEL: func.func @constant_folding
// CHECK-NEXT:    %[[C:.*]] = array.constant dense<[4.000000e+00, 6.000000e+00]> : tensor<2xf32>
// CHECK-NEXT:    func.return %[[C]] : tensor<2xf32>
func.func @constant_folding() -> tensor<2xf32> {
  %a = array.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = array.constant dense<[3.0, 4.0]> : tensor<2xf32>
  %0 = array.add %a, %b : tensor<2xf32>
  %1 = array.reduce_sum %0 axes [] : tensor<2xf32> -> tensor<2xf32>
  func.return %1 : tensor<2xf32>
}

// A product with 2.0 is not a neutral element: it stays.
// CHECK-LABEL: func.func @not_neutral
// CHECK:         array.mul
func.func @not_neutral(%x: tensor<4xf32>) -> tensor<4xf32> {
  %two = array.constant dense<2.0> : tensor<4xf32>
  %0 = array.mul %x, %two : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}

// select(x > c, x, max(x, c)) is max(x, c) (what gradc.numpy's maximum with a
// constant leaves once its stop_gradient is gone); with min, `<`.
// CHECK-LABEL: func.func @select_of_winner
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[C:.*]] = array.constant dense<0.000000e+00> : tensor<4xf32>
// CHECK-NEXT:    %[[M:.*]] = array.max %[[C]], %[[X]] : tensor<4xf32>
// CHECK-NEXT:    %[[N:.*]] = array.min %[[X]], %[[C]] : tensor<4xf32>
// CHECK-NEXT:    func.return %[[M]], %[[N]] : tensor<4xf32>, tensor<4xf32>
func.func @select_of_winner(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %c = array.constant dense<0.0> : tensor<4xf32>
  %m = array.max %c, %x : tensor<4xf32>
  %gt = array.compare gt %x, %c : tensor<4xf32>
  %0 = array.select %gt, %x, %m : tensor<4xi1>, tensor<4xf32>
  %n = array.min %x, %c : tensor<4xf32>
  %lt = array.compare lt %x, %c : tensor<4xf32>
  %1 = array.select %lt, %x, %n : tensor<4xi1>, tensor<4xf32>
  func.return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// Not with a stop_gradient in between (a derivative is still to be taken),
// nor with >= (a tie would then take x, not max's choice of zero).
// CHECK-LABEL: func.func @select_not_of_winner
// CHECK-COUNT-2: array.select
func.func @select_not_of_winner(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %c = array.constant dense<0.0> : tensor<4xf32>
  %m = array.max %x, %c : tensor<4xf32>
  %gt = array.compare gt %x, %c : tensor<4xf32>
  %s = array.stop_gradient %m : tensor<4xf32>
  %0 = array.select %gt, %x, %s : tensor<4xi1>, tensor<4xf32>
  %ge = array.compare ge %x, %c : tensor<4xf32>
  %1 = array.select %ge, %x, %m : tensor<4xi1>, tensor<4xf32>
  func.return %0, %1 : tensor<4xf32>, tensor<4xf32>
}
