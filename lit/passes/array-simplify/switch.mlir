// A switch whose index and operands are constants folds to the constant its
// chosen branch yields (the interpreter runs only that branch); a constant
// branch yielding a constant stays a yield (terminators never fold), its
// ops folded inside it.
// RUN: gradc-opt %s -p array-simplify | filecheck %s

// CHECK-LABEL: func.func @f
// CHECK-NEXT:    %{{.*}} = array.constant dense<2.000000e+00> : tensor<3xf64>
// CHECK-NEXT:    func.return

func.func @f() -> tensor<3xf64> {
  %k = array.constant dense<1> : tensor<i32>
  %x = array.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf64>
  %r = array.switch %k (%x) : (tensor<i32>, tensor<3xf64>) -> (tensor<3xf64>) {
  ^bb0(%a: tensor<3xf64>):
    %y = array.sin %a : tensor<3xf64>
    array.yield %y : tensor<3xf64>
  }, {
  ^bb0(%a: tensor<3xf64>):
    %c = array.constant dense<2.0> : tensor<3xf64>
    array.yield %c : tensor<3xf64>
  }
  func.return %r : tensor<3xf64>
}

// CHECK-LABEL: func.func @g
// CHECK:         array.switch %k (%x)
// CHECK:           %[[D:.*]] = array.constant dense<4.000000e+00> : tensor<3xf64>
// CHECK-NEXT:      array.yield %[[D]] : tensor<3xf64>
func.func @g(%k: tensor<i32>, %x: tensor<3xf64>) -> tensor<3xf64> {
  %r = array.switch %k (%x) : (tensor<i32>, tensor<3xf64>) -> (tensor<3xf64>) {
  ^bb0(%a: tensor<3xf64>):
    %c = array.constant dense<2.0> : tensor<3xf64>
    %d = array.add %c, %c : tensor<3xf64>
    array.yield %d : tensor<3xf64>
  }, {
  ^bb0(%a: tensor<3xf64>):
    array.yield %a : tensor<3xf64>
  }
  func.return %r : tensor<3xf64>
}
