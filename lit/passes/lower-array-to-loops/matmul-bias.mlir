// A dense layer: the bias add is the matmul's epilogue (tile-matmul applies
// it to each register tile of the product as soon as the tile is finished),
// and the product goes straight into the output: no temporary.
// RUN: gradc-opt %s -p lower-array-to-loops | filecheck %s
// Without fusion, the product goes to a temporary and a second nest adds the bias.
// RUN: gradc-opt %s -p "lower-array-to-loops{fuse-epilogues=false}" | filecheck %s --check-prefix=UNFUSED

// CHECK-LABEL: func.func @layer
// CHECK-SAME:    (%[[X:.*]]: memref<2x3xf32>, %[[W:.*]]: memref<3x4xf32>, %[[B:.*]]: memref<4xf32>, %[[OUT:.*]]: memref<2x4xf32>)
// CHECK-SAME:    attributes {loops.num_inputs = 3 : i64}
// CHECK-NEXT:    loops.matmul %[[X]], %[[W]] into %[[OUT]] epilogue {
// CHECK-NEXT:    ^{{.*}}(%[[P:.*]]: f32, %[[I:.*]]: index, %[[J:.*]]: index):
// CHECK-NEXT:      %[[BV:.*]] = loops.load %[[B]][%[[J]]] : memref<4xf32>
// CHECK-NEXT:      %[[S:.*]] = arith.addf %[[P]], %[[BV]] : f32
// CHECK-NEXT:      loops.yield %[[S]] : f32
// CHECK-NEXT:    } : memref<2x3xf32>, memref<3x4xf32> into memref<2x4xf32>
// CHECK-NEXT:    func.return
// CHECK-NOT:   array.

// UNFUSED-LABEL: func.func @layer
// UNFUSED-NEXT:    %[[ACC:.*]] = loops.alloc "workspace" : memref<2x4xf32>
// UNFUSED-NEXT:    loops.matmul %{{.*}}, %{{.*}} into %[[ACC]] : memref<2x3xf32>, memref<3x4xf32> into memref<2x4xf32>
// UNFUSED-NEXT:    loops.for
func.func @layer(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  %0 = array.matmul %x, %w : tensor<2x3xf32>, tensor<3x4xf32> -> tensor<2x4xf32>
  %1 = array.broadcast %b dims [1] : tensor<4xf32> -> tensor<2x4xf32>
  %2 = array.add %0, %1 : tensor<2x4xf32>
  func.return %2 : tensor<2x4xf32>
}

// A^T B and A B^T (what the backward pass produces) read the transposed
// operand in place, through the transpose flags.
// CHECK-LABEL: func.func @grads
// CHECK-SAME:    (%[[X:.*]]: memref<2x3xf32>, %[[G:.*]]: memref<2x4xf32>, %[[W:.*]]: memref<3x4xf32>, %[[DW:.*]]: memref<3x4xf32>, %[[DX:.*]]: memref<2x3xf32>)
// CHECK-NEXT:    loops.matmul %[[X]], %[[G]] into %[[DW]] transpose_a : memref<2x3xf32>, memref<2x4xf32> into memref<3x4xf32>
// CHECK-NEXT:    loops.matmul %[[G]], %[[W]] into %[[DX]] transpose_b : memref<2x4xf32>, memref<3x4xf32> into memref<2x3xf32>
// CHECK-NEXT:    func.return
func.func @grads(%x: tensor<2x3xf32>, %g: tensor<2x4xf32>, %w: tensor<3x4xf32>) -> (tensor<3x4xf32>, tensor<2x3xf32>) {
  %xt = array.transpose %x perm [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  %dw = array.matmul %xt, %g : tensor<3x2xf32>, tensor<2x4xf32> -> tensor<3x4xf32>
  %wt = array.transpose %w perm [1, 0] : tensor<3x4xf32> -> tensor<4x3xf32>
  %dx = array.matmul %g, %wt : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
  func.return %dw, %dx : tensor<3x4xf32>, tensor<2x3xf32>
}

// A chain of elementwise ops (scale, column-broadcast bias, ReLU, tanh)
// ending in a buffer is one epilogue; the output is f64 like the product.
// CHECK-LABEL: func.func @chain
// CHECK:         loops.matmul %{{.*}}, %{{.*}} into %{{.*}} epilogue {
// CHECK-NEXT:    ^{{.*}}(%[[P:.*]]: f64, %[[I:.*]]: index, %[[J:.*]]: index):
// CHECK:           %[[M:.*]] = arith.mulf %[[P]], %{{.*}} : f64
// CHECK-NEXT:      %[[CV:.*]] = loops.load %{{.*}}[%[[I]]] : memref<2xf64>
// CHECK-NEXT:      %[[S:.*]] = arith.addf %[[M]], %[[CV]] : f64
// CHECK-NEXT:      %[[R:.*]] = arith.maximumf %[[S]], %{{.*}} : f64
// CHECK-NEXT:      %[[T:.*]] = math.tanh %[[R]] : f64
// CHECK-NEXT:      loops.yield %[[T]] : f64
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return
func.func @chain(%x: tensor<2x3xf64>, %w: tensor<3x4xf64>, %c: tensor<2xf64>) -> tensor<2x4xf64> {
  %0 = array.matmul %x, %w : tensor<2x3xf64>, tensor<3x4xf64> -> tensor<2x4xf64>
  %two = array.constant dense<2.0> : tensor<2x4xf64>
  %1 = array.mul %0, %two : tensor<2x4xf64>
  %2 = array.broadcast %c dims [0] : tensor<2xf64> -> tensor<2x4xf64>
  %3 = array.add %1, %2 : tensor<2x4xf64>
  %zero = array.constant dense<0.0> : tensor<2x4xf64>
  %4 = array.max %3, %zero : tensor<2x4xf64>
  %5 = array.tanh %4 : tensor<2x4xf64>
  func.return %5 : tensor<2x4xf64>
}

// Near misses. A product used twice keeps its buffer and gets no epilogue
// (fusing it into one user would make the other read it unfinished).
// CHECK-LABEL: func.func @used_twice
// CHECK-NEXT:    %[[ACC:.*]] = loops.alloc "workspace" : memref<2x4xf32>
// CHECK-NEXT:    loops.matmul %{{.*}}, %{{.*}} into %[[ACC]] : memref<2x3xf32>, memref<3x4xf32> into memref<2x4xf32>
// CHECK-NOT:     epilogue
// CHECK:         func.return
func.func @used_twice(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %0 = array.matmul %x, %w : tensor<2x3xf32>, tensor<3x4xf32> -> tensor<2x4xf32>
  %1 = array.tanh %0 : tensor<2x4xf32>
  %2 = array.exp %0 : tensor<2x4xf32>
  func.return %1, %2 : tensor<2x4xf32>, tensor<2x4xf32>
}

// A product read through a transpose is read at other indices than its own.
// CHECK-LABEL: func.func @transposed_use
// CHECK-NEXT:    %[[ACC:.*]] = loops.alloc "workspace" : memref<3x3xf32>
// CHECK-NEXT:    loops.matmul %{{.*}}, %{{.*}} into %[[ACC]] : memref<3x2xf32>, memref<2x3xf32> into memref<3x3xf32>
// CHECK-NOT:     epilogue
// CHECK:         func.return
func.func @transposed_use(%x: tensor<3x2xf32>, %w: tensor<2x3xf32>) -> tensor<3x3xf32> {
  %0 = array.matmul %x, %w : tensor<3x2xf32>, tensor<2x3xf32> -> tensor<3x3xf32>
  %1 = array.transpose %0 perm [1, 0] : tensor<3x3xf32> -> tensor<3x3xf32>
  %2 = array.tanh %1 : tensor<3x3xf32>
  func.return %2 : tensor<3x3xf32>
}
