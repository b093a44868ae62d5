// Bad options and input that is not at the loops level are errors, not tracebacks.
// RUN: not gradc-opt %s -p 'stack-alloc{threshold=-1}' 2>&1 | filecheck %s --check-prefix=THRESHOLD
// RUN: not gradc-opt %s -p 'stack-alloc{budget=-5}' 2>&1 | filecheck %s --check-prefix=BUDGET
// RUN: not gradc-opt %s -p 'stack-alloc{limit=5}' 2>&1 | filecheck %s --check-prefix=UNKNOWN
// RUN: not gradc-opt %s -p stack-alloc 2>&1 | filecheck %s --check-prefix=LEVEL
// RUN: not gradc-opt %s -p plan-memory 2>&1 | filecheck %s --check-prefix=PLAN

// THRESHOLD: 'stack-alloc' failed: threshold must be an integer >= 0, got -1
// BUDGET: 'stack-alloc' failed: budget must be an integer >= 0, got -5
// UNKNOWN: bad options for pass 'stack-alloc': Provided arguments ["limit"] not found
// LEVEL: 'stack-alloc' failed: func.func @f is not at the loops level; run lower-array-to-loops first
// PLAN: 'plan-memory' failed: func.func @f is not at the loops level
// THRESHOLD-NOT: Traceback
// LEVEL-NOT: Traceback

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  func.return %x : tensor<4xf32>
}
