// Bad pass options and malformed pipelines are errors naming the pass.
// RUN: not gradc-opt %s -p 'canonicalize{bogus=1}' 2>&1 | filecheck %s
// RUN: not gradc-opt %s -p 'cse,canonicalize{' 2>&1 | filecheck %s --check-prefix=SYNTAX
// RUN: not gradc-opt %s -p 'gradc-default{fast=true}' 2>&1 | filecheck %s --check-prefix=NAMED

// CHECK-NOT: Traceback
// CHECK: gradc-opt: error: bad options for pass 'canonicalize': Provided arguments ["bogus"] not found

// SYNTAX-NOT: Traceback
// SYNTAX:      gradc-opt: error: cannot parse the pass pipeline (-p)
// SYNTAX-NEXT: cse,canonicalize{
// SYNTAX-NEXT:                  ^
// SYNTAX-NEXT:                  Expected argument name here

// NAMED-NOT: Traceback
// NAMED: gradc-opt: error: pipeline 'gradc-default' takes no options

func.func @f() {
  func.return
}
