// A static function in gradc's name space passes the verifier (lower-loops-to-c
// makes such helpers), but the printer refuses one whose name is a helper it
// writes itself, instead of printing a C file that defines it twice.
// RUN: not gradc-opt %s -t c 2>&1 | filecheck %s
// CHECK-NOT: Traceback
// CHECK: error: target 'c' failed: c.func @gradc_select_f32 has the name of a helper the C file defines; rename it

c.func static inline @gradc_select_f32(%x: f32) -> f32 {
  c.return %x : f32
}

c.func @f(%x: f32) -> f32 {
  %y = c.math "tanh"(%x) : f32
  %z = c.call @gradc_select_f32(%y) : (f32) -> f32
  c.return %z : f32
}
