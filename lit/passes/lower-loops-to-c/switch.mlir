// loops.switch round-trips, and lower-loops-to-c makes it a C `if`/`else`
// (two regions) or a `switch` on the index clamped below at 0 with the last
// region as the default (clamped above); one region runs unconditionally.
// RUN: gradc-opt %s | gradc-opt | filecheck %s --check-prefix=IR
// RUN: gradc-opt %s -p lower-loops-to-c -t c | filecheck %s
// REQUIRES: c-compiler
// RUN: gradc-opt %s -p lower-loops-to-c -t c -o %t.c
// RUN: %cc -c %t.c -o %t.o

// IR-LABEL: func.func @pick
// IR:         loops.switch %{{.*}} : i64 {
// IR-NEXT:      loops.store
// IR-NEXT:    }, {
// IR-NEXT:      loops.store
// IR-NEXT:    }, {
// IR-NEXT:      loops.store
// IR-NEXT:    }

// CHECK-LABEL: int pick(
// CHECK:         const int64_t i = k[0];
// CHECK-NEXT:    switch (i < 0 ? 0 : i) {
// CHECK-NEXT:    case 0: {
// CHECK-NEXT:        out[0] = 1.0;
// CHECK-NEXT:        break;
// CHECK-NEXT:    }
// CHECK-NEXT:    case 1: {
// CHECK-NEXT:        out[0] = 2.0;
// CHECK-NEXT:        break;
// CHECK-NEXT:    }
// CHECK-NEXT:    default: {
// CHECK-NEXT:        out[0] = 3.0;
// CHECK-NEXT:        break;
// CHECK-NEXT:    }
// CHECK-NEXT:    }
func.func @pick(%k: memref<i64>, %out: memref<f64>) attributes {loops.num_inputs = 1 : i64} {
  %i = loops.load %k[] : memref<i64>
  %a = arith.constant 1.0 : f64
  %b = arith.constant 2.0 : f64
  %c = arith.constant 3.0 : f64
  loops.switch %i : i64 {
    loops.store %a, %out[] : memref<f64>
  }, {
    loops.store %b, %out[] : memref<f64>
  }, {
    loops.store %c, %out[] : memref<f64>
  }
  func.return
}

// CHECK-LABEL: int only(
// CHECK:         (void)i;
// CHECK-NEXT:    {
// CHECK-NEXT:        out[0] = 1.0;
// CHECK-NEXT:    }
func.func @only(%k: memref<i32>, %out: memref<f64>) attributes {loops.num_inputs = 1 : i64} {
  %i = loops.load %k[] : memref<i32>
  %a = arith.constant 1.0 : f64
  loops.switch %i : i32 {
    loops.store %a, %out[] : memref<f64>
  }
  func.return
}
