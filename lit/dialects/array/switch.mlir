// array.switch round-trips in its custom form and through the generic form:
// the index, the operands its regions take, then one region per branch.
// RUN: gradc-opt %s | gradc-opt | filecheck %s
// RUN: gradc-opt %s --print-op-generic | gradc-opt | filecheck %s

// CHECK-LABEL: func.func @switch
// CHECK-NEXT:    %{{.*}} = array.switch %k (%x, %s) : (tensor<i32>, tensor<3xf64>, tensor<f64>) -> (tensor<3xf64>) {
// CHECK-NEXT:    ^{{.*}}(%[[A:.*]]: tensor<3xf64>, %{{.*}}: tensor<f64>):
// CHECK-NEXT:      %[[Y:.*]] = array.sin %[[A]] : tensor<3xf64>
// CHECK-NEXT:      array.yield %[[Y]] : tensor<3xf64>
// CHECK-NEXT:    }, {
// CHECK-NEXT:    ^{{.*}}(%[[B:.*]]: tensor<3xf64>, %[[C:.*]]: tensor<f64>):
// CHECK-NEXT:      %[[D:.*]] = array.broadcast %[[C]] dims [] : tensor<f64> -> tensor<3xf64>
// CHECK-NEXT:      %[[Z:.*]] = array.mul %[[B]], %[[D]] : tensor<3xf64>
// CHECK-NEXT:      array.yield %[[Z]] : tensor<3xf64>
// CHECK-NEXT:    }
func.func @switch(%k: tensor<i32>, %x: tensor<3xf64>, %s: tensor<f64>) -> tensor<3xf64> {
  %r = array.switch %k (%x, %s) : (tensor<i32>, tensor<3xf64>, tensor<f64>) -> (tensor<3xf64>) {
  ^bb0(%a: tensor<3xf64>, %b: tensor<f64>):
    %y = array.sin %a : tensor<3xf64>
    array.yield %y : tensor<3xf64>
  }, {
  ^bb0(%a: tensor<3xf64>, %b: tensor<f64>):
    %c = array.broadcast %b dims [] : tensor<f64> -> tensor<3xf64>
    %y = array.mul %a, %c : tensor<3xf64>
    array.yield %y : tensor<3xf64>
  }
  func.return %r : tensor<3xf64>
}

// A switch with no operands and no results, on an i64 index.
// CHECK-LABEL: func.func @empty
// CHECK-NEXT:    array.switch %k () : (tensor<i64>) -> () {
// CHECK-NEXT:      array.yield
// CHECK-NEXT:    }
func.func @empty(%k: tensor<i64>) {
  array.switch %k () : (tensor<i64>) -> () {
    array.yield
  }
  func.return
}
