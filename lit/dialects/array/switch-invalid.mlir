// Verifier errors of array.switch, located at the switch.
// RUN: gradc-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @float_index(%k: tensor<f64>, %x: tensor<3xf64>) -> tensor<3xf64> {
  // CHECK: switch-invalid.mlir:[[# @LINE + 1]]:3: error: array.switch: the index must be a 0-d i32 or i64 tensor, got tensor<f64>
  %r = array.switch %k (%x) : (tensor<f64>, tensor<3xf64>) -> (tensor<3xf64>) {
  ^bb0(%a: tensor<3xf64>):
    array.yield %a : tensor<3xf64>
  }
  func.return %r : tensor<3xf64>
}

// -----

func.func @vector_index(%k: tensor<2xi32>, %x: tensor<3xf64>) -> tensor<3xf64> {
  // CHECK: switch-invalid.mlir:[[# @LINE + 1]]:3: error: array.switch: the index must be a 0-d i32 or i64 tensor, got tensor<2xi32>
  %r = array.switch %k (%x) : (tensor<2xi32>, tensor<3xf64>) -> (tensor<3xf64>) {
  ^bb0(%a: tensor<3xf64>):
    array.yield %a : tensor<3xf64>
  }
  func.return %r : tensor<3xf64>
}

// -----

func.func @arguments(%k: tensor<i32>, %x: tensor<3xf64>) -> tensor<3xf64> {
  // CHECK: switch-invalid.mlir:[[# @LINE + 1]]:3: error: array.switch: region 1 takes (tensor<3xf32>) but the operands after the index are (tensor<3xf64>)
  %r = array.switch %k (%x) : (tensor<i32>, tensor<3xf64>) -> (tensor<3xf64>) {
  ^bb0(%a: tensor<3xf64>):
    array.yield %a : tensor<3xf64>
  }, {
  ^bb0(%a: tensor<3xf32>):
    %b = array.convert %a : tensor<3xf32> -> tensor<3xf64>
    array.yield %b : tensor<3xf64>
  }
  func.return %r : tensor<3xf64>
}

// -----

func.func @results(%k: tensor<i32>, %x: tensor<3xf64>) -> tensor<3xf64> {
  // CHECK: switch-invalid.mlir:[[# @LINE + 1]]:3: error: array.switch: region 0 yields (tensor<3xf32>) but the results are (tensor<3xf64>)
  %r = array.switch %k (%x) : (tensor<i32>, tensor<3xf64>) -> (tensor<3xf64>) {
  ^bb0(%a: tensor<3xf64>):
    %b = array.convert %a : tensor<3xf64> -> tensor<3xf32>
    array.yield %b : tensor<3xf32>
  }
  func.return %r : tensor<3xf64>
}
