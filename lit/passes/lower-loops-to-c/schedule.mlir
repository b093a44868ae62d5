// A checkpoint schedule in C: each phase's actions are a `static const`
// table regenerated from the spec (kind, first, stop, slot per row; here
// binomial(snapshots=2) over 4 steps), run by a loop with a switch: advance
// (0) and taped (3) loop over steps first..stop-1, adjoint (4) from stop-1
// down to first, store (1) and restore (2) copy one snapshot slot; tape
// slots count from the row's slot. No malloc, no mutable global.
// RUN: gradc-opt %S/../lower-array-to-loops/tape-binomial.mlir -p lower-array-to-loops,lower-loops-to-c -t c | filecheck %s

// CHECK-LABEL: int pair(
// CHECK:         static const int32_t schedule0[20] = {
// CHECK-NEXT:        1, 0, 0, 0, 0, 0, 2, 0, 1, 1, 0, 0, 0, 2, 3, 0,
// CHECK-NEXT:        3, 3, 4, 0,
// CHECK-NEXT:    };
// CHECK-NEXT:    for (int64_t a0 = 0; a0 < 5; ++a0) {
// CHECK-NEXT:        const int64_t first0 = schedule0[4 * a0 + 1], stop0 = schedule0[4 * a0 + 2];
// CHECK-NEXT:        const int64_t slot0 = schedule0[4 * a0 + 3];
// CHECK-NEXT:        (void)first0; (void)stop0; (void)slot0;
// CHECK-NEXT:        switch (schedule0[4 * a0]) {
// CHECK-NEXT:        case 0: {
// CHECK-NEXT:            for (int64_t step = first0; step < stop0; ++step) {
// CHECK:                 gradc_tanh
// CHECK:             break;
// CHECK:         case 1: {
// CHECK-NEXT:            const int64_t slot = first0;
// CHECK:         case 3: {
// CHECK-NEXT:            for (int64_t step = first0; step < stop0; ++step) {
// CHECK-NEXT:                const int64_t slot = slot0 + (step - first0);
// CHECK:         default:
// CHECK-NEXT:            break;
// CHECK:         static const int32_t schedule1[48] = {
// CHECK:         case 2: {
// CHECK:         case 4: {
// CHECK-NEXT:            for (int64_t step = stop1 - 1; step >= first1; --step) {
// CHECK-NEXT:                const int64_t slot = slot1 + (step - first1);
// CHECK-NOT:     malloc
