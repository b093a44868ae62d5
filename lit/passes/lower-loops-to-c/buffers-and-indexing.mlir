// Loop nests over memrefs become a C function with the gradc ABI (restrict
// inputs, outputs, workspace; returns 0) and a NAME_work_size function.
// Indexing is flattened row-major, "stack" buffers become local arrays,
// "workspace" buffers slices of `work`, and NaN-propagating maximum a
// static inline helper.
// RUN: gradc-opt %s -p lower-loops-to-c | filecheck %s

// CHECK:       c.func static inline @gradc_maximum_f32(%[[A:.*]]: f32, %[[B:.*]]: f32) -> f32 {

// CHECK-LABEL: c.func @add_rows
// CHECK-SAME:    (%[[X:.*]]: !c.ptr<const f32 restrict>, %[[BIAS:.*]]: !c.ptr<const f32 restrict>, %[[OUT:.*]]: !c.ptr<f32 restrict>, %[[WORK:.*]]: !c.ptr<void restrict>) -> i32 {
// CHECK-NEXT:    %[[TMP:.*]] = c.array 8 : !c.ptr<f32>
// CHECK-NEXT:    %[[WS:.*]] = c.byte_offset %[[WORK]] + 0 : !c.ptr<void restrict> -> !c.ptr<f32 restrict>
// CHECK-NEXT:    c.for %[[J:.*]] = 0 to 8 step 1 {
// CHECK-NEXT:      %[[BV:.*]] = c.load %[[BIAS]][%[[J]]] : !c.ptr<const f32 restrict>
// CHECK-NEXT:      %[[E:.*]] = c.math "exp"(%[[BV]]) : f32
// CHECK-NEXT:      c.store %[[E]], %[[TMP]][%[[J]]] : !c.ptr<f32>
// CHECK-NEXT:    }
// CHECK-NEXT:    c.for %[[I:.*]] = 0 to 4 step 1 {
// CHECK-NEXT:      c.for %[[J:.*]] = 0 to 8 step 1 {
// CHECK-NEXT:        %[[EIGHT:.*]] = c.literal 8 : index
// CHECK-NEXT:        %[[ROW:.*]] = c.mul %[[I]], %[[EIGHT]] : index
// CHECK-NEXT:        %[[FLAT:.*]] = c.add %[[ROW]], %[[J]] : index
// CHECK-NEXT:        %[[XV:.*]] = c.load %[[X]][%[[FLAT]]] : !c.ptr<const f32 restrict>
// CHECK-NEXT:        %[[TV:.*]] = c.load %[[TMP]][%[[J]]] : !c.ptr<f32>
// CHECK-NEXT:        %[[S:.*]] = c.add %[[XV]], %[[TV]] : f32
// CHECK-NEXT:        %[[M:.*]] = c.call @gradc_maximum_f32(%[[S]], %[[XV]]) : (f32, f32) -> f32
// CHECK:             c.store %[[M]], %[[WS]][%{{.*}}] : !c.ptr<f32 restrict>
// CHECK:             c.store %[[M]], %[[OUT]][%{{.*}}] : !c.ptr<f32 restrict>
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[OK:.*]] = c.literal 0 : i32
// CHECK-NEXT:    c.return %[[OK]] : i32
// CHECK-NEXT:  }

// 4 x 8 x f32 = 128 bytes of workspace.
// CHECK-LABEL: c.func @add_rows_work_size() -> !c.size_t {
// CHECK-NEXT:    %[[N:.*]] = c.literal 128 : index
// CHECK-NEXT:    %[[SIZE:.*]] = c.cast %[[N]] : index to !c.size_t
// CHECK-NEXT:    c.return %[[SIZE]] : !c.size_t
// CHECK-NOT:   loops.
// CHECK-NOT:   memref
func.func @add_rows(%x: memref<4x8xf32>, %b: memref<8xf32>, %out: memref<4x8xf32>) attributes {loops.num_inputs = 2 : i64} {
  %tmp = loops.alloc "stack" : memref<8xf32>
  %ws = loops.alloc "workspace" : memref<4x8xf32>
  loops.for %j = 0 to 8 {
    %bv = loops.load %b[%j] : memref<8xf32>
    %e = math.exp %bv : f32
    loops.store %e, %tmp[%j] : memref<8xf32>
  }
  loops.for %i = 0 to 4 {
    loops.for %j = 0 to 8 {
      %xv = loops.load %x[%i, %j] : memref<4x8xf32>
      %bv = loops.load %tmp[%j] : memref<8xf32>
      %s = arith.addf %xv, %bv : f32
      %m = arith.maximumf %s, %xv : f32
      loops.store %m, %ws[%i, %j] : memref<4x8xf32>
      loops.store %m, %out[%i, %j] : memref<4x8xf32>
    }
  }
  func.return
}
