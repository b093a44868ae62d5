// An unknown pass name is an error with suggestions; it exits with 1 before
// reading the input.
// RUN: not gradc-opt %s -p canonicalise 2>&1 | filecheck %s
// RUN: not gradc-opt %s -p no-such-pass 2>&1 | filecheck %s --check-prefix=NONE

// CHECK-NOT: Traceback
// CHECK: gradc-opt: error: unknown pass 'canonicalise'; did you mean canonicalize
// NONE-NOT: Traceback
// NONE:  gradc-opt: error: unknown pass 'no-such-pass' (`gradc-opt --help` lists them)

func.func @f() {
  func.return
}
