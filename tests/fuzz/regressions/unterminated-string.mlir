// expect: End of file reached before closing string literal
// An unterminated string: xDSL's lexer regex backtracked exponentially in the
// length of the rest of the line (over 100 s for this one).
func.func @shared(%x: tensor<4xf64>) -> tensor<4xf64> {
" %a = array.exp %x : tensor<4xf64>
  %c = array.add %a, %a : tensor<4xf64>
  func.return %c : tensor<4xf64>
}
