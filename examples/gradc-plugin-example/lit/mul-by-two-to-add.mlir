// The plugin's pass, found through its `xdsl.universe` entry point by both
// drivers.
// RUN: gradc-opt %s -p example-mul-by-two-to-add | filecheck %s
// RUN: xdsl-opt %s -p example-mul-by-two-to-add | filecheck %s
// Followed by dce, the unused constants disappear.
// RUN: gradc-opt %s -p example-mul-by-two-to-add,dce | filecheck %s --check-prefix=DCE
// The new op keeps the location of the op it replaces.
// RUN: gradc-opt %s -p example-mul-by-two-to-add --print-debuginfo | filecheck %s --check-prefix=LOC

// CHECK-LABEL: func.func @times_two
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[TWO:.*]] = array.constant dense<2.000000e+00> : tensor<4xf32>
// CHECK-NEXT:    %[[Y:.*]] = array.add %[[X]], %[[X]] : tensor<4xf32>
// CHECK-NEXT:    func.return %[[Y]] : tensor<4xf32>
// DCE-LABEL:   func.func @times_two
// DCE-NEXT:      %[[Y:.*]] = array.add %{{.*}}, %{{.*}} : tensor<4xf32>
// DCE-NEXT:      func.return %[[Y]] : tensor<4xf32>
func.func @times_two(%x: tensor<4xf32>) -> tensor<4xf32> {
  %two = array.constant dense<2.0> : tensor<4xf32>
  // LOC: array.add %x, %x : tensor<4xf32> loc("{{.*}}mul-by-two-to-add.mlir":[[# @LINE + 1]]:3)
  %y = array.mul %x, %two : tensor<4xf32>
  func.return %y : tensor<4xf32>
}

// The constant may come first, and the element type may be f64.
// CHECK-LABEL: func.func @two_times
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf64>)
// CHECK:         %[[Y:.*]] = array.add %[[X]], %[[X]] : tensor<2x3xf64>
// CHECK-NEXT:    func.return %[[Y]] : tensor<2x3xf64>
func.func @two_times(%x: tensor<2x3xf64>) -> tensor<2x3xf64> {
  %two = array.constant dense<2.0> : tensor<2x3xf64>
  %y = array.mul %two, %x : tensor<2x3xf64>
  func.return %y : tensor<2x3xf64>
}

// Anything but a splat 2.0 is left alone.
// CHECK-LABEL: func.func @not_two
// CHECK-NOT:     array.add
// CHECK:         array.mul %{{.*}}, %{{.*}} : tensor<2xf32>
// CHECK-NEXT:    array.mul %{{.*}}, %{{.*}} : tensor<2xf32>
// CHECK-NEXT:    array.mul %{{.*}}, %{{.*}} : tensor<2xf32>
// CHECK-NOT:     array.add
// CHECK:         func.return
func.func @not_two(%x: tensor<2xf32>, %y: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) {
  %three = array.constant dense<3.0> : tensor<2xf32>
  %mixed = array.constant dense<[2.0, 3.0]> : tensor<2xf32>
  %a = array.mul %x, %three : tensor<2xf32>
  %b = array.mul %x, %mixed : tensor<2xf32>
  %c = array.mul %x, %y : tensor<2xf32>
  func.return %a, %b, %c : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
}
