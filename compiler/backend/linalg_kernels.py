"""C for `c.linalg`: one static function per kind, flags, n and element type,
which the call passes m (right-hand side columns) and the batch count.

    static void gradc_solve_f64_64(const double *restrict a, const double *restrict b,
                                   double *restrict x, double *restrict work, int64_t m, int64_t batch)

Expects: row-major [batch, n, n] matrices (and [batch, n, m] right-hand
sides), an [n, n] scratch buffer for solve, slogdet and eigh. Guarantees:
no allocation, no globals, no exits; deterministic (fixed loop orders and
summation trees); the bad-input results of docs/linalg.md (NaN for a
failed Cholesky, inf/NaN for a singular solve, (0, -inf) for a singular
slogdet). Loop orders: the inner loops run along contiguous rows (dot
products with 8 partial sums, or row updates), which gcc vectorizes;
docs/linalg.md has the measurements.
"""

from __future__ import annotations

from xdsl.dialects.builtin import Float32Type
from xdsl.ir import Attribute

from gradc.backend.c_spelling import c_type_name
from gradc.dialects import c

INDENT = "    "


def _suffix(element: Attribute) -> str:
    return "f32" if isinstance(element, Float32Type) else "f64"


def linalg_name(op: c.LinalgOp) -> str:
    flags = "".join(f"_{name}" for name, on in op.flags().items() if on)
    return f"gradc_{op.kind_name}{flags}_{_suffix(op.element_type)}_{op.size('n')}"


def dot_name(element: Attribute) -> str:
    return f"gradc_linalg_dot_{_suffix(element)}"


def dot_definition(element: Attribute) -> list[str]:
    """sum_k x[k] y[k] with 8 partial sums (vectorizable without reassociating)."""
    t = c_type_name(element)
    sums = ", ".join(f"s{i} = 0" for i in range(8))
    body = " ".join(f"s{i} += x[k + {i}] * y[k + {i}];" for i in range(8))
    return [
        f"static inline {t} {dot_name(element)}(const {t} *restrict x, const {t} *restrict y, int64_t n) {{",
        f"{INDENT}{t} {sums};",
        f"{INDENT}int64_t k = 0;",
        f"{INDENT}for (; k + 8 <= n; k += 8) {{ {body} }}",
        f"{INDENT}for (; k < n; k++) s0 += x[k] * y[k];",
        f"{INDENT}return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));",
        "}",
    ]


def _math(element: Attribute, name: str) -> str:
    return name + "f" if isinstance(element, Float32Type) else name


def _cholesky(op: c.LinalgOp, t: str, n: int, e: Attribute) -> list[str]:
    # Row-oriented (Cholesky-Crout): L[i][j] = (A[i][j] - L[i][:j] . L[j][:j]) / L[j][j],
    # both rows contiguous, so each dot product vectorizes.
    dot, sqrt = dot_name(e), _math(e, "sqrt")
    return [
        f"static void {linalg_name(op)}(const {t} *restrict a, {t} *restrict l, int64_t m, int64_t batch) {{",
        f"{INDENT}(void)m;",
        f"{INDENT}for (int64_t b = 0; b < batch; b++) {{",
        f"{INDENT*2}const {t} *A = a + b * {n * n};",
        f"{INDENT*2}{t} *L = l + b * {n * n};",
        f"{INDENT*2}int ok = 1;",
        f"{INDENT*2}for (int64_t i = 0; i < {n} && ok; i++) {{",
        f"{INDENT*3}{t} *Li = L + i * {n};",
        f"{INDENT*3}for (int64_t j = 0; j < i; j++) {{",
        f"{INDENT*4}const {t} *Lj = L + j * {n};",
        f"{INDENT*4}Li[j] = (A[i * {n} + j] - {dot}(Li, Lj, j)) / Lj[j];",
        f"{INDENT*3}}}",
        f"{INDENT*3}const {t} d = A[i * {n} + i] - {dot}(Li, Li, i);",
        f"{INDENT*3}if (!(d > 0)) ok = 0;",
        f"{INDENT*3}Li[i] = {sqrt}(d);",
        f"{INDENT*3}for (int64_t j = i + 1; j < {n}; j++) Li[j] = 0;",
        f"{INDENT*2}}}",
        f"{INDENT*2}if (!ok) for (int64_t k = 0; k < {n * n}; k++) L[k] = NAN;",
        f"{INDENT}}}",
        "}",
    ]


def _substitute(t: str, n: int, lower: bool, entry: str, unit: bool, depth: int) -> list[str]:
    """Solve T X = X in place (X [n, m] row-major), T triangular with T(i, k)
    spelled by `entry` (a format of i and k): row updates X[i] -= T(i,k) X[k]."""
    pad = INDENT * depth
    rows = f"int64_t i = 0; i < {n}; i++" if lower else f"int64_t i = {n} - 1; i >= 0; i--"
    ks = "int64_t k = 0; k < i; k++" if lower else f"int64_t k = i + 1; k < {n}; k++"
    lines = [
        f"{pad}for ({rows}) {{",
        f"{pad}{INDENT}{t} *Xi = X + i * m;",
        f"{pad}{INDENT}for ({ks}) {{",
        f"{pad}{INDENT*2}const {t} f = {entry.format(i='i', k='k')};",
        f"{pad}{INDENT*2}const {t} *Xk = X + k * m;",
        f"{pad}{INDENT*2}for (int64_t j = 0; j < m; j++) Xi[j] -= f * Xk[j];",
        f"{pad}{INDENT}}}",
    ]
    if not unit:
        lines += [
            f"{pad}{INDENT}const {t} d = {entry.format(i='i', k='i')};",
            f"{pad}{INDENT}for (int64_t j = 0; j < m; j++) Xi[j] /= d;",
        ]
    return lines + [f"{pad}}}"]


def _triangular_solve(op: c.LinalgOp, t: str, n: int, e: Attribute) -> list[str]:
    lower, trans, unit = op.flag("lower"), op.flag("transpose_a"), op.flag("unit_diagonal")
    entry = f"A[{{k}} * {n} + {{i}}]" if trans else f"A[{{i}} * {n} + {{k}}]"
    return [
        f"static void {linalg_name(op)}(const {t} *restrict a, const {t} *restrict bs, {t} *restrict x, "
        "int64_t m, int64_t batch) {",
        f"{INDENT}for (int64_t b = 0; b < batch; b++) {{",
        f"{INDENT*2}const {t} *A = a + b * {n * n};",
        f"{INDENT*2}{t} *X = x + b * {n} * m;",
        f"{INDENT*2}for (int64_t k = 0; k < {n} * m; k++) X[k] = bs[b * {n} * m + k];",
        *_substitute(t, n, lower != trans, entry, unit, 2),
        f"{INDENT}}}",
        "}",
    ]


def _lu_step(t: str, n: int, e: Attribute, rhs: bool, depth: int, on_singular: list[str]) -> list[str]:
    """Step k of Gaussian elimination with partial pivoting on U (and X)."""
    pad = INDENT * depth
    fabs = _math(e, "fabs")
    lines = [
        f"{pad}int64_t p = k;",
        f"{pad}{t} best = {fabs}(U[k * {n} + k]);",
        f"{pad}for (int64_t i = k + 1; i < {n}; i++) {{",
        f"{pad}{INDENT}const {t} v = {fabs}(U[i * {n} + k]);",
        f"{pad}{INDENT}if (v > best) {{ best = v; p = i; }}",
        f"{pad}}}",
        *(f"{pad}{line}" for line in on_singular),
        f"{pad}if (p != k) {{",
        f"{pad}{INDENT}for (int64_t j = 0; j < {n}; j++) {{ const {t} s = U[k * {n} + j]; "
        f"U[k * {n} + j] = U[p * {n} + j]; U[p * {n} + j] = s; }}",
    ]
    if rhs:
        lines.append(f"{pad}{INDENT}for (int64_t j = 0; j < m; j++) {{ const {t} s = X[k * m + j]; "
                     "X[k * m + j] = X[p * m + j]; X[p * m + j] = s; }")
    else:
        lines.append(f"{pad}{INDENT}sign = -sign;")
    lines += [
        f"{pad}}}",
        f"{pad}const {t} d = U[k * {n} + k];",
        f"{pad}const {t} *Uk = U + k * {n};",
        f"{pad}for (int64_t i = k + 1; i < {n}; i++) {{",
        f"{pad}{INDENT}{t} *Ui = U + i * {n};",
        f"{pad}{INDENT}const {t} f = Ui[k] / d;",
        f"{pad}{INDENT}for (int64_t j = k + 1; j < {n}; j++) Ui[j] -= f * Uk[j];",
    ]
    if rhs:
        lines.append(f"{pad}{INDENT}for (int64_t j = 0; j < m; j++) X[i * m + j] -= f * X[k * m + j];")
    return lines + [f"{pad}}}"]


def _copy_matrix(t: str, n: int, trans: bool, depth: int) -> list[str]:
    pad = INDENT * depth
    source = f"A[j * {n} + i]" if trans else f"A[i * {n} + j]"
    return [
        f"{pad}for (int64_t i = 0; i < {n}; i++)",
        f"{pad}{INDENT}for (int64_t j = 0; j < {n}; j++) U[i * {n} + j] = {source};",
    ]


def _solve(op: c.LinalgOp, t: str, n: int, e: Attribute) -> list[str]:
    return [
        f"static void {linalg_name(op)}(const {t} *restrict a, const {t} *restrict bs, {t} *restrict x, "
        f"{t} *restrict U, int64_t m, int64_t batch) {{",
        f"{INDENT}for (int64_t b = 0; b < batch; b++) {{",
        f"{INDENT*2}const {t} *A = a + b * {n * n};",
        f"{INDENT*2}{t} *X = x + b * {n} * m;",
        *_copy_matrix(t, n, op.flag("transpose_a"), 2),
        f"{INDENT*2}for (int64_t k = 0; k < {n} * m; k++) X[k] = bs[b * {n} * m + k];",
        f"{INDENT*2}for (int64_t k = 0; k < {n}; k++) {{",
        *_lu_step(t, n, e, True, 3, []),
        f"{INDENT*2}}}",
        *_substitute(t, n, False, f"U[{{i}} * {n} + {{k}}]", False, 2),
        f"{INDENT}}}",
        "}",
    ]


def _slogdet(op: c.LinalgOp, t: str, n: int, e: Attribute) -> list[str]:
    log, fabs = _math(e, "log"), _math(e, "fabs")
    return [
        f"static void {linalg_name(op)}(const {t} *restrict a, {t} *restrict out, {t} *restrict U, "
        "int64_t m, int64_t batch) {",
        f"{INDENT}(void)m;",
        f"{INDENT}for (int64_t b = 0; b < batch; b++) {{",
        f"{INDENT*2}const {t} *A = a + b * {n * n};",
        *_copy_matrix(t, n, False, 2),
        f"{INDENT*2}{t} sign = 1, logabs = 0;",
        f"{INDENT*2}for (int64_t k = 0; k < {n}; k++) {{",
        *_lu_step(t, n, e, False, 3, ["if (best == 0) { sign = 0; logabs = -INFINITY; break; }"]),
        f"{INDENT*3}sign = d < 0 ? -sign : (d > 0 ? sign : d);",
        f"{INDENT*3}logabs += {log}({fabs}(d));",
        f"{INDENT*2}}}",
        f"{INDENT*2}out[2 * b] = sign;",
        f"{INDENT*2}out[2 * b + 1] = logabs;",
        f"{INDENT}}}",
        "}",
    ]


def _eigh(op: c.LinalgOp, t: str, n: int, e: Attribute) -> list[str]:
    # Cyclic Jacobi on S (the symmetric matrix of A's lower triangle), V the
    # product of the rotations; then sorted ascending, each eigenvector signed
    # so that its largest-magnitude component (the first of ties) is positive.
    sqrt, fabs = _math(e, "sqrt"), _math(e, "fabs")
    eps = "1.1920929e-07f" if isinstance(e, Float32Type) else "2.220446049250313e-16"
    return [
        f"static void {linalg_name(op)}(const {t} *restrict a, {t} *restrict out, {t} *restrict S, "
        "int64_t m, int64_t batch) {",
        f"{INDENT}(void)m;",
        f"{INDENT}for (int64_t b = 0; b < batch; b++) {{",
        f"{INDENT*2}const {t} *A = a + b * {n * n};",
        f"{INDENT*2}{t} *W = out + b * {(n + 1) * n};",
        f"{INDENT*2}{t} *V = W + {n};",
        f"{INDENT*2}{t} norm = 0;",
        f"{INDENT*2}for (int64_t i = 0; i < {n}; i++)",
        f"{INDENT*3}for (int64_t j = 0; j < {n}; j++) {{",
        f"{INDENT*4}S[i * {n} + j] = i >= j ? A[i * {n} + j] : A[j * {n} + i];",
        f"{INDENT*4}V[i * {n} + j] = i == j;",
        f"{INDENT*4}norm += S[i * {n} + j] * S[i * {n} + j];",
        f"{INDENT*3}}}",
        f"{INDENT*2}const {t} tiny = {eps} * {eps} * norm;",
        f"{INDENT*2}for (int sweep = 0; sweep < 60; sweep++) {{",
        f"{INDENT*3}{t} off = 0;",
        f"{INDENT*3}for (int64_t p = 0; p < {n}; p++)",
        f"{INDENT*4}for (int64_t q = p + 1; q < {n}; q++) off += S[p * {n} + q] * S[p * {n} + q];",
        f"{INDENT*3}if (!(off > tiny)) break;",
        f"{INDENT*3}for (int64_t p = 0; p < {n}; p++)",
        f"{INDENT*4}for (int64_t q = p + 1; q < {n}; q++) {{",
        f"{INDENT*5}const {t} apq = S[p * {n} + q];",
        f"{INDENT*5}if (apq == 0) continue;",
        f"{INDENT*5}const {t} theta = (S[q * {n} + q] - S[p * {n} + p]) / (2 * apq);",
        f"{INDENT*5}const {t} tn = (theta >= 0 ? 1 : -1) / ({fabs}(theta) + {sqrt}(theta * theta + 1));",
        f"{INDENT*5}const {t} cs = 1 / {sqrt}(tn * tn + 1), sn = tn * cs;",
        f"{INDENT*5}for (int64_t k = 0; k < {n}; k++) {{",
        f"{INDENT*6}const {t} skp = S[k * {n} + p], skq = S[k * {n} + q];",
        f"{INDENT*6}S[k * {n} + p] = cs * skp - sn * skq;",
        f"{INDENT*6}S[k * {n} + q] = sn * skp + cs * skq;",
        f"{INDENT*5}}}",
        f"{INDENT*5}for (int64_t k = 0; k < {n}; k++) {{",
        f"{INDENT*6}const {t} spk = S[p * {n} + k], sqk = S[q * {n} + k];",
        f"{INDENT*6}S[p * {n} + k] = cs * spk - sn * sqk;",
        f"{INDENT*6}S[q * {n} + k] = sn * spk + cs * sqk;",
        f"{INDENT*5}}}",
        f"{INDENT*5}S[p * {n} + q] = 0;",
        f"{INDENT*5}S[q * {n} + p] = 0;",
        f"{INDENT*5}for (int64_t k = 0; k < {n}; k++) {{",
        f"{INDENT*6}const {t} vkp = V[k * {n} + p], vkq = V[k * {n} + q];",
        f"{INDENT*6}V[k * {n} + p] = cs * vkp - sn * vkq;",
        f"{INDENT*6}V[k * {n} + q] = sn * vkp + cs * vkq;",
        f"{INDENT*5}}}",
        f"{INDENT*4}}}",
        f"{INDENT*2}}}",
        f"{INDENT*2}for (int64_t i = 0; i < {n}; i++) W[i] = S[i * {n} + i];",
        f"{INDENT*2}for (int64_t i = 0; i < {n}; i++) {{",
        f"{INDENT*3}int64_t lo = i;",
        f"{INDENT*3}for (int64_t j = i + 1; j < {n}; j++) if (W[j] < W[lo]) lo = j;",
        f"{INDENT*3}if (lo != i) {{",
        f"{INDENT*4}const {t} w = W[i]; W[i] = W[lo]; W[lo] = w;",
        f"{INDENT*4}for (int64_t k = 0; k < {n}; k++) {{ const {t} v = V[k * {n} + i]; "
        f"V[k * {n} + i] = V[k * {n} + lo]; V[k * {n} + lo] = v; }}",
        f"{INDENT*3}}}",
        f"{INDENT*3}int64_t big = 0;",
        f"{INDENT*3}for (int64_t k = 1; k < {n}; k++) if ({fabs}(V[k * {n} + i]) > {fabs}(V[big * {n} + i])) big = k;",
        f"{INDENT*3}if (V[big * {n} + i] < 0) for (int64_t k = 0; k < {n}; k++) V[k * {n} + i] = -V[k * {n} + i];",
        f"{INDENT*2}}}",
        f"{INDENT}}}",
        "}",
    ]


_KERNELS = {
    "cholesky": _cholesky,
    "triangular_solve": _triangular_solve,
    "solve": _solve,
    "slogdet": _slogdet,
    "eigh": _eigh,
}


def linalg_definition(op: c.LinalgOp) -> list[str]:
    e = op.element_type
    return _KERNELS[op.kind_name](op, c_type_name(e), op.size("n"), e)


def linalg_call(op: c.LinalgOp, pointers: list[str]) -> str:
    return f"{linalg_name(op)}({', '.join(pointers)}, {op.size('m')}, {op.size('batch')});"


__all__ = ["dot_definition", "dot_name", "linalg_call", "linalg_definition", "linalg_name"]
