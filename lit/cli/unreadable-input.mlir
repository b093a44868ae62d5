// A missing or unreadable input file is an error, not a traceback.
// RUN: not gradc-opt %t.does-not-exist.mlir 2>&1 | filecheck %s
// RUN: not gradc-opt %S 2>&1 | filecheck %s --check-prefix=DIR
// An output file that cannot be written, likewise.
// RUN: not gradc-opt %s -o %t.no-such-dir/out.mlir 2>&1 | filecheck %s --check-prefix=OUT

// CHECK-NOT: Traceback
// CHECK: gradc-opt: error: cannot read '{{.*}}.does-not-exist.mlir': No such file or directory
// DIR-NOT: Traceback
// DIR:   gradc-opt: error: cannot read '{{.*}}cli': Is a directory
// OUT-NOT: Traceback
// OUT:   gradc-opt: error: cannot write '{{.*}}.no-such-dir/out.mlir': No such file or directory

func.func @f() {
  func.return
}
