// autodiff.custom_jvp and autodiff.custom_vjp round-trip, in their custom
// form and in the generic form.
// RUN: gradc-opt %s | gradc-opt | filecheck %s
// RUN: gradc-opt %s --print-op-generic | gradc-opt | filecheck %s

func.func private @softplus(%x: tensor<3xf64>, %c: tensor<f64>) -> tensor<3xf64> {
  %e = array.exp %x : tensor<3xf64>
  %l = array.log1p %e : tensor<3xf64>
  func.return %l : tensor<3xf64>
}

func.func private @softplus_jvp(%x: tensor<3xf64>, %c: tensor<f64>, %dx: tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>) {
  %y = func.call @softplus(%x, %c) : (tensor<3xf64>, tensor<f64>) -> tensor<3xf64>
  %n = array.neg %x : tensor<3xf64>
  %e = array.exp %n : tensor<3xf64>
  %one = array.constant dense<1.0> : tensor<3xf64>
  %d = array.add %one, %e : tensor<3xf64>
  %t = array.div %dx, %d : tensor<3xf64>
  func.return %y, %t : tensor<3xf64>, tensor<3xf64>
}

func.func private @softplus_fwd(%x: tensor<3xf64>, %c: tensor<f64>) -> (tensor<3xf64>, tensor<3xf64>) {
  %y = func.call @softplus(%x, %c) : (tensor<3xf64>, tensor<f64>) -> tensor<3xf64>
  func.return %y, %x : tensor<3xf64>, tensor<3xf64>
}

func.func private @softplus_bwd(%x: tensor<3xf64>, %c: tensor<f64>, %r: tensor<3xf64>, %g: tensor<3xf64>) -> tensor<3xf64> {
  func.return %g : tensor<3xf64>
}

// CHECK-LABEL: func.func @main
// CHECK:         %{{.*}} = autodiff.custom_jvp @softplus(%[[X:.*]], %[[C:.*]]) jvp @softplus_jvp diff [0] : (tensor<3xf64>, tensor<f64>) -> (tensor<3xf64>)
// CHECK-NEXT:    %{{.*}} = autodiff.custom_vjp @softplus(%[[X]], %[[C]]) fwd @softplus_fwd bwd @softplus_bwd diff [0] : (tensor<3xf64>, tensor<f64>) -> (tensor<3xf64>)
func.func @main(%x: tensor<3xf64>, %c: tensor<f64>) -> (tensor<3xf64>, tensor<3xf64>) {
  %a = autodiff.custom_jvp @softplus(%x, %c) jvp @softplus_jvp diff [0] : (tensor<3xf64>, tensor<f64>) -> (tensor<3xf64>)
  %b = autodiff.custom_vjp @softplus(%x, %c) fwd @softplus_fwd bwd @softplus_bwd diff [0] : (tensor<3xf64>, tensor<f64>) -> (tensor<3xf64>)
  func.return %a, %b : tensor<3xf64>, tensor<3xf64>
}
