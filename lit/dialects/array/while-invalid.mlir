// Verifier errors of array.while, located at the loop.
// RUN: gradc-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @yield_type(%s: tensor<3xf64>) -> tensor<3xf64> {
  // CHECK: while-invalid.mlir:[[# @LINE + 1]]:3: error: array.while: carry 0: the body yields tensor<3xf32> but the carry has type tensor<3xf64>
  %r = array.while carries(%a = %s : tensor<3xf64>) invariants() cond {
    %c = array.constant dense<false> : tensor<i1>
    array.condition %c : tensor<i1>
  } body {
  ^bb0(%b: tensor<3xf64>):
    %f = array.convert %b : tensor<3xf64> -> tensor<3xf32>
    array.yield %f : tensor<3xf32>
  }
  func.return %r : tensor<3xf64>
}

// -----

func.func @vector_condition(%s: tensor<3xf64>) -> tensor<3xf64> {
  // CHECK: while-invalid.mlir:[[# @LINE + 3]]:5: error: array.condition: the condition must be tensor<i1>, got tensor<3xi1>
  %r = array.while carries(%a = %s : tensor<3xf64>) invariants() cond {
    %c = array.compare gt %a, %a : tensor<3xf64>
    array.condition %c : tensor<3xi1>
  } body {
  ^bb0(%b: tensor<3xf64>):
    array.yield %b : tensor<3xf64>
  }
  func.return %r : tensor<3xf64>
}

// -----

func.func @region_arguments(%s: tensor<3xf64>, %w: tensor<2xf64>) -> tensor<3xf64> {
  // CHECK: while-invalid.mlir:[[# @LINE + 1]]:3: error: array.while: the body region takes (tensor<3xf64>), expected the carries then the invariants (tensor<3xf64>, tensor<2xf64>)
  %r = array.while carries(%a = %s : tensor<3xf64>) invariants(%v = %w : tensor<2xf64>) cond {
    %c = array.constant dense<false> : tensor<i1>
    array.condition %c : tensor<i1>
  } body {
  ^bb0(%b: tensor<3xf64>):
    array.yield %b : tensor<3xf64>
  }
  func.return %r : tensor<3xf64>
}

// -----

func.func @max_steps(%s: tensor<3xf64>) -> tensor<3xf64> {
  // CHECK: while-invalid.mlir:[[# @LINE + 1]]:3: error: array.while: max_steps must be >= 0, got -2
  %r = array.while max_steps -2 carries(%a = %s : tensor<3xf64>) invariants() cond {
    %c = array.constant dense<false> : tensor<i1>
    array.condition %c : tensor<i1>
  } body {
  ^bb0(%b: tensor<3xf64>):
    array.yield %b : tensor<3xf64>
  }
  func.return %r : tensor<3xf64>
}

// -----

// The regions are isolated from above: outer values come in as invariants.
func.func @captured(%s: tensor<3xf64>, %w: tensor<3xf64>) -> tensor<3xf64> {
  // CHECK: while-invalid.mlir:[[# @LINE + 1]]:3: error: Operation using value defined out of its IsolatedFromAbove parent
  %r = array.while carries(%a = %s : tensor<3xf64>) invariants() cond {
    %c = array.constant dense<false> : tensor<i1>
    array.condition %c : tensor<i1>
  } body {
  ^bb0(%b: tensor<3xf64>):
    %n = array.add %b, %w : tensor<3xf64>
    array.yield %n : tensor<3xf64>
  }
  func.return %r : tensor<3xf64>
}
