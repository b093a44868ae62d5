// RUN: gradc-opt --version | filecheck %s
// CHECK: gradc-opt {{[0-9.]+}}, built on xDSL version {{[0-9.]+}}
