// array.while round-trips in its custom form and through the generic form.
// RUN: gradc-opt %s | gradc-opt | filecheck %s
// RUN: gradc-opt %s --print-op-generic | gradc-opt | filecheck %s

// CHECK-LABEL: func.func @halve
// CHECK:         %{{.*}}, %{{.*}} = array.while max_steps 50 carries(%[[X:.*]] = %{{.*}} : tensor<f64>, %[[K:.*]] = %{{.*}} : tensor<i64>) invariants(%[[T:.*]] = %{{.*}} : tensor<f64>) cond {
// CHECK-NEXT:      %[[C:.*]] = array.compare gt %[[X]], %[[T]] : tensor<f64>
// CHECK-NEXT:      array.condition %[[C]] : tensor<i1>
// CHECK-NEXT:    } body {
// CHECK-NEXT:    ^{{.*}}(%[[BX:.*]]: tensor<f64>, %[[BK:.*]]: tensor<i64>, %[[BT:.*]]: tensor<f64>):
// CHECK-NEXT:      %[[H:.*]] = array.mul %[[BX]], %[[BX]] : tensor<f64>
// CHECK:           array.yield %[[H]], %{{.*}} : tensor<f64>, tensor<i64>
// CHECK-NEXT:    }
func.func @halve(%x0: tensor<f64>, %tol: tensor<f64>) -> (tensor<f64>, tensor<i64>) {
  %zero = array.constant dense<0> : tensor<i64>
  %r, %n = array.while max_steps 50 carries(%x = %x0 : tensor<f64>, %k = %zero : tensor<i64>) invariants(%t = %tol : tensor<f64>) cond {
    %c = array.compare gt %x, %t : tensor<f64>
    array.condition %c : tensor<i1>
  } body {
  ^bb0(%bx: tensor<f64>, %bk: tensor<i64>, %bt: tensor<f64>):
    %h = array.mul %bx, %bx : tensor<f64>
    %one = array.constant dense<1> : tensor<i64>
    %k1 = array.add %bk, %one : tensor<i64>
    array.yield %h, %k1 : tensor<f64>, tensor<i64>
  }
  func.return %r, %n : tensor<f64>, tensor<i64>
}

// Without max_steps, no bound is printed.
// CHECK-LABEL: func.func @unbounded
// CHECK:         array.while carries(
func.func @unbounded(%x0: tensor<2xf32>) -> tensor<2xf32> {
  %r = array.while carries(%x = %x0 : tensor<2xf32>) invariants() cond {
    %s = array.reduce_sum %x axes [0] : tensor<2xf32> -> tensor<f32>
    %z = array.constant dense<1.0> : tensor<f32>
    %c = array.compare gt %s, %z : tensor<f32>
    array.condition %c : tensor<i1>
  } body {
  ^bb0(%bx: tensor<2xf32>):
    %h = array.add %bx, %bx : tensor<2xf32>
    array.yield %h : tensor<2xf32>
  }
  func.return %r : tensor<2xf32>
}
