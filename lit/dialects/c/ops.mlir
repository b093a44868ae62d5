// Every `c` op and type round-trips, in its custom form and in the generic
// form.
// RUN: gradc-opt %s | gradc-opt | filecheck %s
// RUN: gradc-opt %s --print-op-generic | gradc-opt | filecheck %s

// CHECK-LABEL: c.func @kernel
// CHECK-SAME:    (%[[IN:.*]]: !c.ptr<const f32 restrict>, %[[OUT:.*]]: !c.ptr<f32 restrict>, %[[WORK:.*]]: !c.ptr<void restrict>) -> i32 {
c.func @kernel(%in: !c.ptr<const f32 restrict>, %out: !c.ptr<f32 restrict>, %work: !c.ptr<void restrict>) -> i32 {
  // CHECK-NEXT: %[[K:.*]] = c.static_array dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32> -> !c.ptr<const f32>
  // CHECK-NEXT: %[[T:.*]] = c.byte_offset %[[WORK]] + 64 : !c.ptr<void restrict> -> !c.ptr<f32 restrict>
  // CHECK-NEXT: %[[S:.*]] = c.array 8 : !c.ptr<f32>
  // CHECK-NEXT: %[[ZERO:.*]] = c.literal 0 : i32
  // CHECK-NEXT: %[[HALF:.*]] = c.literal 5.000000e-01 : f32
  // CHECK-NEXT: %[[TWO:.*]] = c.literal 2 : index
  // CHECK-NEXT: %[[YES:.*]] = c.literal true
  %k = c.static_array dense<[1.0, 2.0]> : tensor<2xf32> -> !c.ptr<const f32>
  %t = c.byte_offset %work + 64 : !c.ptr<void restrict> -> !c.ptr<f32 restrict>
  %s = c.array 8 : !c.ptr<f32>
  %zero = c.literal 0 : i32
  %half = c.literal 0.5 : f32
  %two = c.literal 2 : index
  %yes = c.literal true
  // CHECK-NEXT: c.pragma "GCC ivdep"
  // CHECK-NEXT: c.for %[[I:.*]] = 0 to 8 step 2 {
  c.pragma "GCC ivdep"
  c.for %i = 0 to 8 step 2 {
    // CHECK-NEXT: %[[X:.*]] = c.load %[[IN]][%[[I]]] : !c.ptr<const f32 restrict>
    // CHECK-NEXT: %[[A:.*]] = c.add %[[X]], %[[HALF]] : f32
    // CHECK-NEXT: %[[B:.*]] = c.sub %[[A]], %[[X]] : f32
    // CHECK-NEXT: %[[C:.*]] = c.mul %[[B]], %[[B]] : f32
    // CHECK-NEXT: %[[D:.*]] = c.div %[[C]], %[[HALF]] : f32
    // CHECK-NEXT: %[[N:.*]] = c.neg %[[D]] : f32
    // CHECK-NEXT: %[[E:.*]] = c.call @expf(%[[N]]) : (f32) -> f32
    // CHECK-NEXT: %[[TANH:.*]] = c.math "tanh"(%[[E]]) : f32
    // CHECK-NEXT: %[[W:.*]] = c.cast %[[E]] : f32 to f64
    // CHECK-NEXT: %[[N2:.*]] = c.cast %[[W]] : f64 to f32
    %x = c.load %in[%i] : !c.ptr<const f32 restrict>
    %a = c.add %x, %half : f32
    %b = c.sub %a, %x : f32
    %c = c.mul %b, %b : f32
    %d = c.div %c, %half : f32
    %n = c.neg %d : f32
    %e = c.call @expf(%n) : (f32) -> f32
    %tanh = c.math "tanh"(%e) : f32
    %w = c.cast %e : f32 to f64
    %n2 = c.cast %w : f64 to f32
    // CHECK-NEXT: %[[LT:.*]] = c.lt %[[X]], %[[HALF]] : f32
    // CHECK-NEXT: %[[LE:.*]] = c.le %[[X]], %[[HALF]] : f32
    // CHECK-NEXT: %[[GT:.*]] = c.gt %[[X]], %[[HALF]] : f32
    // CHECK-NEXT: %[[GE:.*]] = c.ge %[[X]], %[[HALF]] : f32
    // CHECK-NEXT: %[[EQ:.*]] = c.eq %[[X]], %[[HALF]] : f32
    // CHECK-NEXT: %[[NE:.*]] = c.ne %[[I]], %[[TWO]] : index
    // CHECK-NEXT: %[[AND:.*]] = c.and %[[LT]], %[[LE]] : i1
    // CHECK-NEXT: %[[OR:.*]] = c.or %[[AND]], %[[GT]] : i1
    // CHECK-NEXT: %[[NOT:.*]] = c.not %[[OR]] : i1
    // CHECK-NEXT: %[[SEL:.*]] = c.select %[[NOT]], %[[N2]], %[[X]] : f32
    // CHECK-NEXT: c.store %[[SEL]], %[[OUT]][%[[I]]] : !c.ptr<f32 restrict>
    // CHECK-NEXT: c.store %[[SEL]], %[[T]][%[[I]]] : !c.ptr<f32 restrict>
    // CHECK-NEXT: c.store %[[SEL]], %[[S]][%[[I]]] {tag} : !c.ptr<f32>
    // CHECK-NEXT: }
    %lt = c.lt %x, %half : f32
    %le = c.le %x, %half : f32
    %gt = c.gt %x, %half : f32
    %ge = c.ge %x, %half : f32
    %eq = c.eq %x, %half : f32
    %ne = c.ne %i, %two : index
    %and = c.and %lt, %le : i1
    %or = c.or %and, %gt : i1
    %not = c.not %or : i1
    %sel = c.select %not, %n2, %x : f32
    c.store %sel, %out[%i] : !c.ptr<f32 restrict>
    c.store %sel, %t[%i] : !c.ptr<f32 restrict>
    c.store %sel, %s[%i] {tag} : !c.ptr<f32>
  }
  // CHECK-NEXT: c.return %[[ZERO]] : i32
  c.return %zero : i32
}

// CHECK-LABEL: c.func static inline @work_size() -> !c.size_t {
// CHECK-NEXT:    %[[SIZE:.*]] = c.literal 64 : i64
// CHECK-NEXT:    %[[CAST:.*]] = c.cast %[[SIZE]] : i64 to !c.size_t
// CHECK-NEXT:    c.return %[[CAST]] : !c.size_t
c.func static inline @work_size() -> !c.size_t {
  %size = c.literal 64 : i64
  %cast = c.cast %size : i64 to !c.size_t
  c.return %cast : !c.size_t
}

// A void function; `c.return` may be left out.
// CHECK-LABEL: c.func @nothing(%{{.*}}: f64, %{{.*}}: i1) {
// CHECK-NEXT:    c.return
// CHECK-NEXT:  }
// CHECK-LABEL: c.func @empty() {
// CHECK-NEXT:  }
c.func @nothing(%a: f64, %b: i1) {
  c.return
}
c.func @empty() {
}

// An OpenMP loop: its pragma guarded by a macro, the thread number inside.
// CHECK-LABEL: c.func @parallel
// CHECK-NEXT:    c.pragma "omp parallel for num_threads(2) schedule(static)" if "_OPENMP"
// CHECK-NEXT:    c.for %{{.*}} = 0 to 8 step 1 {
// CHECK-NEXT:      %{{.*}} = c.thread_num : index
c.func @parallel() {
  c.pragma "omp parallel for num_threads(2) schedule(static)" if "_OPENMP"
  c.for %i = 0 to 8 step 1 {
    %t = c.thread_num : index
  }
  c.return
}
