// Verifier errors of the `array` dialect, each located at the offending op.
// RUN: gradc-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Elementwise ops need static shapes and float elements; both operands and
// the result share one type.

func.func @dynamic(%x: tensor<?xf32>) -> tensor<?xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.neg: shapes must be static, got tensor<?xf32>
  %0 = array.neg %x : tensor<?xf32>
  func.return %0 : tensor<?xf32>
}

// -----

func.func @bool_operand(%x: tensor<4xi1>) -> tensor<4xi1> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.exp: operand must have element type f32 or f64, got tensor<4xi1>
  %0 = array.exp %x : tensor<4xi1>
  func.return %0 : tensor<4xi1>
}

// -----

func.func @mixed_shapes(%x: tensor<4xf32>, %y: tensor<3xf32>) -> tensor<4xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 2]]:3: error: operand 'rhs' at position 1 does not verify:
  // CHECK-NEXT: attribute tensor<4xf32> expected from variable 'T', but got tensor<3xf32>
  %0 = "array.add"(%x, %y) : (tensor<4xf32>, tensor<3xf32>) -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}

// -----

// Constants

func.func @constant_type() -> tensor<3xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.constant: value type tensor<2xf32> does not match result type tensor<3xf32>
  %0 = "array.constant"() <{value = dense<1.0> : tensor<2xf32>}> : () -> tensor<3xf32>
  func.return %0 : tensor<3xf32>
}

// -----

func.func @constant_int() -> tensor<2xi16> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.constant: element type must be f32, f64, i32, i64 or i1, got tensor<2xi16>
  %0 = array.constant dense<1> : tensor<2xi16>
  func.return %0 : tensor<2xi16>
}

// -----

// compare / select / convert

func.func @predicate(%x: tensor<4xf32>) -> tensor<4xi1> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.compare: unknown predicate 'lte', expected one of lt, le, gt, ge, eq, ne
  %0 = "array.compare"(%x, %x) <{predicate = "lte"}> : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  func.return %0 : tensor<4xi1>
}

// -----

func.func @compare_result(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.compare: result type must be tensor<4xi1>, got tensor<4xf32>
  %0 = "array.compare"(%x, %x) <{predicate = "lt"}> : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}

// -----

func.func @select_condition(%c: tensor<3xi1>, %x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.select: condition must be tensor<4xi1>, got tensor<3xi1>
  %0 = array.select %c, %x, %x : tensor<3xi1>, tensor<4xf32>
  func.return %0 : tensor<4xf32>
}

// -----

func.func @convert_shape(%x: tensor<4xf32>) -> tensor<2xf64> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.convert: shapes must match, got tensor<4xf32> -> tensor<2xf64>
  %0 = array.convert %x : tensor<4xf32> -> tensor<2xf64>
  func.return %0 : tensor<2xf64>
}

// -----

func.func @convert_int(%x: tensor<4xf32>) -> tensor<4xi8> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.convert: element types must be f32, f64, i32, i64 or i1, got tensor<4xi8>
  %0 = array.convert %x : tensor<4xf32> -> tensor<4xi8>
  func.return %0 : tensor<4xi8>
}

// -----

// Integers take arithmetic, not float math; bools take neither.

func.func @int_math(%x: tensor<4xi32>) -> tensor<4xi32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.exp: operand must have element type f32 or f64, got tensor<4xi32>
  %0 = array.exp %x : tensor<4xi32>
  func.return %0 : tensor<4xi32>
}

// -----

func.func @bool_add(%x: tensor<4xi1>) -> tensor<4xi1> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.add: operand must have element type f32, f64, i32 or i64, got tensor<4xi1>
  %0 = array.add %x, %x : tensor<4xi1>
  func.return %0 : tensor<4xi1>
}

// -----

func.func @argmax_result(%x: tensor<3x4xf32>) -> tensor<3xi32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.argmax: result type must be tensor<3xi64>, got tensor<3xi32>
  %0 = "array.argmax"(%x) <{axis = 1 : i64}> : (tensor<3x4xf32>) -> tensor<3xi32>
  func.return %0 : tensor<3xi32>
}

// -----

func.func @argmax_empty(%x: tensor<3x0xf32>) -> tensor<3xi64> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.argmax: axis 1 of tensor<3x0xf32> is empty
  %0 = array.argmax %x axis 1 : tensor<3x0xf32> -> tensor<3xi64>
  func.return %0 : tensor<3xi64>
}

// -----

// broadcast

func.func @broadcast_rank(%x: tensor<3xf32>) -> tensor<2x3xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.broadcast: dims has 2 entries but the input has rank 1
  %0 = array.broadcast %x dims [0, 1] : tensor<3xf32> -> tensor<2x3xf32>
  func.return %0 : tensor<2x3xf32>
}

// -----

func.func @broadcast_order(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.broadcast: dims must be strictly increasing and in [0, 2), got [1, 0]
  %0 = array.broadcast %x dims [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  func.return %0 : tensor<3x2xf32>
}

// -----

func.func @broadcast_size(%x: tensor<3xf32>) -> tensor<2x4xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.broadcast: input dimension 0 has size 3, which cannot broadcast to size 4 of result dimension 1
  %0 = array.broadcast %x dims [1] : tensor<3xf32> -> tensor<2x4xf32>
  func.return %0 : tensor<2x4xf32>
}

// -----

func.func @broadcast_dtype(%x: tensor<3xf32>) -> tensor<2x3xf64> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.broadcast: element types must match
  %0 = array.broadcast %x dims [1] : tensor<3xf32> -> tensor<2x3xf64>
  func.return %0 : tensor<2x3xf64>
}

// -----

// reshape / transpose

func.func @reshape_count(%x: tensor<2x3xf32>) -> tensor<5xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.reshape: cannot reshape tensor<2x3xf32> (6 elements) into tensor<5xf32> (5 elements)
  %0 = array.reshape %x : tensor<2x3xf32> -> tensor<5xf32>
  func.return %0 : tensor<5xf32>
}

// -----

func.func @transpose_permutation(%x: tensor<4x3xf32>) -> tensor<3x4xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.transpose: [0, 0] is not a permutation of [0, 1]
  %0 = array.transpose %x perm [0, 0] : tensor<4x3xf32> -> tensor<3x4xf32>
  func.return %0 : tensor<3x4xf32>
}

// -----

func.func @transpose_result(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.transpose: result type must be tensor<3x4xf32>, got tensor<4x3xf32>
  %0 = array.transpose %x perm [1, 0] : tensor<4x3xf32> -> tensor<4x3xf32>
  func.return %0 : tensor<4x3xf32>
}

// -----

// slice

func.func @slice_bounds(%x: tensor<5x6xf32>) -> tensor<3x3xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.slice: dimension 1: slice 0:7:2 is out of bounds for size 6 (need 0 <= start <= limit <= size for a stride > 0, -1 <= limit <= start < size for a stride < 0)
  %0 = array.slice %x [1:4:1, 0:7:2] : tensor<5x6xf32> -> tensor<3x3xf32>
  func.return %0 : tensor<3x3xf32>
}

// -----

func.func @slice_stride(%x: tensor<5xf32>) -> tensor<0xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.slice: dimension 0: slice 0:5:0 is out of bounds for size 5
  %0 = array.slice %x [0:5:0] : tensor<5xf32> -> tensor<0xf32>
  func.return %0 : tensor<0xf32>
}

// -----

func.func @slice_backward_bounds(%x: tensor<5xf32>) -> tensor<3xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.slice: dimension 0: slice 5:-1:-2 is out of bounds for size 5
  %0 = array.slice %x [5:-1:-2] : tensor<5xf32> -> tensor<3xf32>
  func.return %0 : tensor<3xf32>
}

// -----

func.func @slice_rank(%x: tensor<5x6xf32>) -> tensor<3xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.slice: start, limit and stride need one entry per input dimension (2)
  %0 = array.slice %x [1:4:1] : tensor<5x6xf32> -> tensor<3xf32>
  func.return %0 : tensor<3xf32>
}

// -----

func.func @slice_result(%x: tensor<5xf32>) -> tensor<4xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.slice: result type must be tensor<2xf32>, got tensor<4xf32>
  %0 = array.slice %x [0:4:2] : tensor<5xf32> -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}

// -----

// concatenate

func.func @concatenate_axis(%x: tensor<2x3xf32>) -> tensor<4x3xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.concatenate: axis 2 is out of range for rank 2
  %0 = array.concatenate axis 2 %x, %x : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  func.return %0 : tensor<4x3xf32>
}

// -----

func.func @concatenate_other_dims(%x: tensor<2x3xf32>, %y: tensor<2x4xf32>) -> tensor<4x3xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.concatenate: input tensor<2x4xf32> does not match tensor<4x3xf32> outside axis 0
  %0 = array.concatenate axis 0 %x, %y : tensor<2x3xf32>, tensor<2x4xf32> -> tensor<4x3xf32>
  func.return %0 : tensor<4x3xf32>
}

// -----

func.func @concatenate_sum(%x: tensor<2x3xf32>) -> tensor<5x3xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.concatenate: inputs add up to 4 along axis 0, but the result has 5
  %0 = array.concatenate axis 0 %x, %x : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<5x3xf32>
  func.return %0 : tensor<5x3xf32>
}

// -----

// matmul

func.func @matmul_rank(%x: tensor<3xf32>, %y: tensor<3x4xf32>) -> tensor<4xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.matmul: operands must both have rank >= 2 and equal rank, got tensor<3xf32> and tensor<3x4xf32>
  %0 = array.matmul %x, %y : tensor<3xf32>, tensor<3x4xf32> -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}

// -----

func.func @matmul_inner(%x: tensor<2x3xf32>, %y: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.matmul: shapes [2, 3] and [4, 5] do not compose ([..., m, k] x [..., k, n] with equal batch dimensions)
  %0 = array.matmul %x, %y : tensor<2x3xf32>, tensor<4x5xf32> -> tensor<2x5xf32>
  func.return %0 : tensor<2x5xf32>
}

// -----

func.func @matmul_batch(%x: tensor<2x2x3xf32>, %y: tensor<3x3x4xf32>) -> tensor<2x2x4xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.matmul: shapes [2, 2, 3] and [3, 3, 4] do not compose
  %0 = array.matmul %x, %y : tensor<2x2x3xf32>, tensor<3x3x4xf32> -> tensor<2x2x4xf32>
  func.return %0 : tensor<2x2x4xf32>
}

// -----

func.func @matmul_dtypes(%x: tensor<2x3xf32>, %y: tensor<3x4xf64>) -> tensor<2x4xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.matmul: element types differ: tensor<2x3xf32> and tensor<3x4xf64>
  %0 = array.matmul %x, %y : tensor<2x3xf32>, tensor<3x4xf64> -> tensor<2x4xf32>
  func.return %0 : tensor<2x4xf32>
}

// -----

func.func @matmul_result(%x: tensor<2x3xf32>, %y: tensor<3x4xf32>) -> tensor<4x2xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.matmul: result type must be tensor<2x4xf32>, got tensor<4x2xf32>
  %0 = array.matmul %x, %y : tensor<2x3xf32>, tensor<3x4xf32> -> tensor<4x2xf32>
  func.return %0 : tensor<4x2xf32>
}

// -----

// reductions

func.func @reduce_axes_order(%x: tensor<2x3xf32>) -> tensor<f32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.reduce_sum: axes must be sorted, unique and in [0, 2), got [1, 0]
  %0 = array.reduce_sum %x axes [1, 0] : tensor<2x3xf32> -> tensor<f32>
  func.return %0 : tensor<f32>
}

// -----

func.func @reduce_axes_range(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.reduce_max: axes must be sorted, unique and in [0, 2), got [2]
  %0 = array.reduce_max %x axes [2] : tensor<2x3xf32> -> tensor<2xf32>
  func.return %0 : tensor<2xf32>
}

// -----

func.func @reduce_result(%x: tensor<2x3xf32>) -> tensor<3xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.reduce_sum: result type must be tensor<2xf32>, got tensor<3xf32>
  %0 = array.reduce_sum %x axes [1] : tensor<2x3xf32> -> tensor<3xf32>
  func.return %0 : tensor<3xf32>
}

// -----

// gather

func.func @gather_out_of_range(%x: tensor<3x4xf32>) -> tensor<2x4xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.gather: indices for axis 0 must be in [0, 3), got values in [0, 3]
  %0 = array.gather %x axes [0] indices dense<[[3], [0]]> : tensor<2x1xi32> : tensor<3x4xf32> -> tensor<2x4xf32>
  func.return %0 : tensor<2x4xf32>
}

// -----

func.func @shift_bool(%x: tensor<4xi1>) -> tensor<4xi1> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.shl: operand must have element type i32 or i64, got tensor<4xi1>
  %0 = array.shl %x, %x : tensor<4xi1>
  func.return %0 : tensor<4xi1>
}

// -----

func.func @gather_table_width(%x: tensor<3x4xf32>) -> tensor<2x4xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.gather: indices tensor<2x2xi32> must end in a dimension of size 1 (one per axis)
  %0 = array.gather %x axes [0] indices dense<[[1, 1], [0, 0]]> : tensor<2x2xi32> : tensor<3x4xf32> -> tensor<2x4xf32>
  func.return %0 : tensor<2x4xf32>
}

// -----

func.func @dynamic_gather_float_indices(%x: tensor<3x4xf32>, %i: tensor<2x1xf32>) -> tensor<2x4xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.dynamic_gather: indices must have element type i32 or i64, got tensor<2x1xf32>
  %0 = array.dynamic_gather %x, %i axes [0] mode "clip" : tensor<3x4xf32>, tensor<2x1xf32> -> tensor<2x4xf32>
  func.return %0 : tensor<2x4xf32>
}

// -----

func.func @dynamic_gather_mode(%x: tensor<3x4xf32>, %i: tensor<2x1xi32>) -> tensor<2x4xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.dynamic_gather: mode must be one of ('clip', 'fill'), got 'drop'
  %0 = array.dynamic_gather %x, %i axes [0] mode "drop" : tensor<3x4xf32>, tensor<2x1xi32> -> tensor<2x4xf32>
  func.return %0 : tensor<2x4xf32>
}

// -----

func.func @scatter_updates(%x: tensor<3x4xf32>, %i: tensor<2x1xi32>, %v: tensor<2x3xf32>) -> tensor<3x4xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.scatter: updates must be tensor<2x4xf32>, got tensor<2x3xf32>
  %0 = array.scatter %x, %i, %v axes [0] kind "add" mode "drop" : tensor<3x4xf32>, tensor<2x1xi32>, tensor<2x3xf32> -> tensor<3x4xf32>
  func.return %0 : tensor<3x4xf32>
}

// -----

func.func @scatter_kind(%x: tensor<3x4xf32>, %i: tensor<2x1xi32>, %v: tensor<2x4xf32>) -> tensor<3x4xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.scatter: kind must be one of ('add', 'set'), got 'max'
  %0 = array.scatter %x, %i, %v axes [0] kind "max" mode "drop" : tensor<3x4xf32>, tensor<2x1xi32>, tensor<2x4xf32> -> tensor<3x4xf32>
  func.return %0 : tensor<3x4xf32>
}

// -----

func.func @gather_axes(%x: tensor<3x4xf32>) -> tensor<2xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.gather: axes must be distinct, in [0, 2) and at least one, got [1, 1]
  %0 = array.gather %x axes [1, 1] indices dense<[[1, 1], [0, 0]]> : tensor<2x2xi32> : tensor<3x4xf32> -> tensor<2xf32>
  func.return %0 : tensor<2xf32>
}

// -----

func.func @gather_result(%x: tensor<3x4xf32>) -> tensor<4x2xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.gather: result type must be tensor<2x4xf32>, got tensor<4x2xf32>
  %0 = array.gather %x axes [0] indices dense<[[1], [0]]> : tensor<2x1xi32> : tensor<3x4xf32> -> tensor<4x2xf32>
  func.return %0 : tensor<4x2xf32>
}

// -----

// dynamic_slice, dynamic_update_slice

func.func @dynamic_slice_starts(%x: tensor<5x4xf64>, %i: tensor<f64>) -> tensor<1x4xf64> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.dynamic_slice: needs one start index per dimension (2), got 1
  %0 = array.dynamic_slice %x[%i] sizes [1, 4] : tensor<5x4xf64>, tensor<f64> -> tensor<1x4xf64>
  func.return %0 : tensor<1x4xf64>
}

// -----

func.func @dynamic_slice_start_type(%x: tensor<5xf64>, %i: tensor<2xf64>) -> tensor<1xf64> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.dynamic_slice: start index 0 must be a 0-d float or integer tensor, got tensor<2xf64>
  %0 = array.dynamic_slice %x[%i] sizes [1] : tensor<5xf64>, tensor<2xf64> -> tensor<1xf64>
  func.return %0 : tensor<1xf64>
}

// -----

func.func @dynamic_slice_sizes(%x: tensor<5xf64>, %i: tensor<f64>) -> tensor<6xf64> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.dynamic_slice: sizes [6] must give one size per dimension, each at most the dimension's size [5]
  %0 = array.dynamic_slice %x[%i] sizes [6] : tensor<5xf64>, tensor<f64> -> tensor<6xf64>
  func.return %0 : tensor<6xf64>
}

// -----

func.func @dynamic_update_slice_fit(%x: tensor<5xf64>, %u: tensor<6xf64>, %i: tensor<f64>) -> tensor<5xf64> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.dynamic_update_slice: update tensor<6xf64> does not fit in tensor<5xf64>
  %0 = array.dynamic_update_slice %x, %u[%i] : tensor<5xf64>, tensor<6xf64>, tensor<f64> -> tensor<5xf64>
  func.return %0 : tensor<5xf64>
}

// -----

func.func @and_float(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: invalid.mlir:[[# @LINE + 1]]:3: error: array.and: operand must have element type i32, i64 or i1, got tensor<4xf32>
  %0 = array.and %x, %x : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
