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
        # Zeroed first: gcc -O1 (the sanitizers' level) cannot tell that the
        # loop below or the NaN fill writes every element, and warns.
        f"{INDENT*2}for (int64_t k = 0; k < {n * n}; k++) L[k] = 0;",
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


def _solver(op: c.LinalgOp, t: str, n: int, scratch: bool, body: list[str]) -> list[str]:
    """A solve's function: per matrix of the batch, X = B, then `body`
    (which reads A and solves in place in X)."""
    return [
        f"static void {linalg_name(op)}(const {t} *restrict a, const {t} *restrict bs, {t} *restrict x, "
        + (f"{t} *restrict U, " if scratch else "") + "int64_t m, int64_t batch) {",
        f"{INDENT}for (int64_t b = 0; b < batch; b++) {{",
        f"{INDENT*2}const {t} *A = a + b * {n * n};",
        f"{INDENT*2}{t} *X = x + b * {n} * m;",
        f"{INDENT*2}for (int64_t k = 0; k < {n} * m; k++) X[k] = bs[b * {n} * m + k];",
        *body,
        f"{INDENT}}}",
        "}",
    ]


def _triangular_solve(op: c.LinalgOp, t: str, n: int, e: Attribute) -> list[str]:
    lower, trans, unit = op.flag("lower"), op.flag("transpose_a"), op.flag("unit_diagonal")
    entry = f"A[{{k}} * {n} + {{i}}]" if trans else f"A[{{i}} * {n} + {{k}}]"
    return _solver(op, t, n, False, _substitute(t, n, lower != trans, entry, unit, 2))


PANEL = 8
"""Columns of the LU's panel: the trailing rows are updated once per panel,
by a rank-8 product, rather than once per column."""


def _lu(t: str, n: int, e: Attribute, rhs: bool, depth: int) -> list[str]:
    """Blocked right-looking LU with partial pivoting of U in place (unit L
    below the diagonal, P A = L U): per panel of PANEL columns, eliminate
    within the panel, solve the panel's rows of U to its right, then update
    the trailing rows in one pass each. Row swaps cover whole rows, and X's
    rows (`rhs`) or the sign (else, where a zero pivot column stops the
    factorization: `singular`)."""
    pad = INDENT * depth
    fabs = _math(e, "fabs")
    swap_other = (
        f"for (int64_t j = 0; j < m; j++) {{ const {t} s = X[k * m + j]; X[k * m + j] = X[p * m + j]; "
        "X[p * m + j] = s; }"
        if rhs else "sign = -sign;"
    )
    terms = " + ".join(f"l[{q}] * U[(k0 + {q}) * {n} + j]" for q in range(PANEL))
    i1, i2, i3, i4 = (pad + INDENT * q for q in range(1, 5))
    return [
        f"{pad}for (int64_t k0 = 0; k0 < {n}{'' if rhs else ' && !singular'}; k0 += {PANEL}) {{",
        f"{i1}const int64_t k1 = k0 + {PANEL} < {n} ? k0 + {PANEL} : {n};",
        f"{i1}for (int64_t k = k0; k < k1; k++) {{",
        f"{i2}int64_t p = k;",
        f"{i2}{t} best = {fabs}(U[k * {n} + k]);",
        f"{i2}for (int64_t i = k + 1; i < {n}; i++) {{",
        f"{i3}const {t} v = {fabs}(U[i * {n} + k]);",
        f"{i3}if (v > best) {{ best = v; p = i; }}",
        f"{i2}}}",
        *([] if rhs else [f"{i2}if (best == 0) {{ singular = 1; break; }}"]),
        f"{i2}if (p != k) {{",
        f"{i3}for (int64_t j = 0; j < {n}; j++) {{ const {t} s = U[k * {n} + j]; "
        f"U[k * {n} + j] = U[p * {n} + j]; U[p * {n} + j] = s; }}",
        f"{i3}{swap_other}",
        f"{i2}}}",
        f"{i2}const {t} d = U[k * {n} + k];",
        *([] if rhs else [
            f"{i2}sign = d < 0 ? -sign : (d > 0 ? sign : d);",
            f"{i2}logabs += {_math(e, 'log')}({fabs}(d));",
        ]),
        f"{i2}for (int64_t i = k + 1; i < {n}; i++) {{",
        f"{i3}{t} *Ui = U + i * {n};",
        f"{i3}const {t} f = Ui[k] / d;",
        f"{i3}Ui[k] = f;",
        f"{i3}for (int64_t j = k + 1; j < k1; j++) Ui[j] -= f * U[k * {n} + j];",
        f"{i2}}}",
        f"{i1}}}",
        *([] if rhs else [f"{i1}if (singular) break;"]),
        f"{i1}for (int64_t k = k0; k < k1; k++)",
        f"{i2}for (int64_t i = k + 1; i < k1; i++) {{",
        f"{i3}const {t} f = U[i * {n} + k];",
        f"{i3}for (int64_t j = k1; j < {n}; j++) U[i * {n} + j] -= f * U[k * {n} + j];",
        f"{i2}}}",
        f"{i1}for (int64_t i = k1; i < {n}; i++) {{",
        f"{i2}{t} *Ui = U + i * {n};",
        f"{i2}if (k1 - k0 == {PANEL}) {{",
        f"{i3}{t} l[{PANEL}];",
        f"{i3}for (int64_t q = 0; q < {PANEL}; q++) l[q] = Ui[k0 + q];",
        f"{i3}for (int64_t j = k1; j < {n}; j++) Ui[j] -= {terms};",
        f"{i2}}} else {{",
        f"{i3}for (int64_t k = k0; k < k1; k++) {{",
        f"{i4}const {t} f = Ui[k];",
        f"{i4}for (int64_t j = k1; j < {n}; j++) Ui[j] -= f * U[k * {n} + j];",
        f"{i3}}}",
        f"{i2}}}",
        f"{i1}}}",
        f"{pad}}}",
    ]


def _copy_matrix(t: str, n: int, trans: bool, depth: int) -> list[str]:
    pad = INDENT * depth
    source = f"A[j * {n} + i]" if trans else f"A[i * {n} + j]"
    return [
        f"{pad}for (int64_t i = 0; i < {n}; i++)",
        f"{pad}{INDENT}for (int64_t j = 0; j < {n}; j++) U[i * {n} + j] = {source};",
    ]


def _solve(op: c.LinalgOp, t: str, n: int, e: Attribute) -> list[str]:
    return _solver(op, t, n, True, [
        *_copy_matrix(t, n, op.flag("transpose_a"), 2),
        *_lu(t, n, e, True, 2),
        *_substitute(t, n, True, f"U[{{i}} * {n} + {{k}}]", True, 2),
        *_substitute(t, n, False, f"U[{{i}} * {n} + {{k}}]", False, 2),
    ])


def _slogdet(op: c.LinalgOp, t: str, n: int, e: Attribute) -> list[str]:
    return [
        f"static void {linalg_name(op)}(const {t} *restrict a, {t} *restrict out, {t} *restrict U, "
        "int64_t m, int64_t batch) {",
        f"{INDENT}(void)m;",
        f"{INDENT}for (int64_t b = 0; b < batch; b++) {{",
        f"{INDENT*2}const {t} *A = a + b * {n * n};",
        *_copy_matrix(t, n, False, 2),
        f"{INDENT*2}{t} sign = 1, logabs = 0;",
        f"{INDENT*2}int singular = 0;",
        *_lu(t, n, e, False, 2),
        f"{INDENT*2}out[2 * b] = singular ? 0 : sign;",
        f"{INDENT*2}out[2 * b + 1] = singular ? -INFINITY : logabs;",
        f"{INDENT}}}",
        "}",
    ]


def _eigh(op: c.LinalgOp, t: str, n: int, e: Attribute) -> list[str]:
    # Householder tridiagonalization (Q accumulated in V), then implicit
    # symmetric QR steps with Wilkinson shifts on the tridiagonal (d, sub),
    # rotating the rows of S = Q^T (contiguous); eigenvalues sorted
    # ascending, each eigenvector signed so that its largest-magnitude
    # component (the first of ties) is positive, V = S^T.
    # Scratch: S [n, n], then rows v, p (Householder vector, product), sub.
    sqrt, fabs, hypot = _math(e, "sqrt"), _math(e, "fabs"), _math(e, "hypot")
    eps = "1.1920929e-07f" if isinstance(e, Float32Type) else "2.220446049250313e-16"
    dot = dot_name(e)
    i1, i2, i3, i4, i5 = (INDENT * k for k in range(1, 6))
    return [
        f"static void {linalg_name(op)}(const {t} *restrict a, {t} *restrict out, {t} *restrict S, "
        "int64_t m, int64_t batch) {",
        f"{i1}(void)m;",
        f"{i1}{t} *v = S + {n * n}, *p = v + {n}, *sub = p + {n};",
        f"{i1}for (int64_t b = 0; b < batch; b++) {{",
        f"{i2}const {t} *A = a + b * {n * n};",
        f"{i2}{t} *W = out + b * {(n + 1) * n};",
        f"{i2}{t} *V = W + {n};",
        f"{i2}for (int64_t i = 0; i < {n}; i++)",
        f"{i3}for (int64_t j = 0; j < {n}; j++) {{",
        f"{i4}S[i * {n} + j] = i >= j ? A[i * {n} + j] : A[j * {n} + i];",
        f"{i4}V[i * {n} + j] = i == j;",
        f"{i3}}}",
        # Tridiagonalization: H_k = I - beta v v^T zeroes row/column k beyond k + 1.
        f"{i2}for (int64_t k = 0; k + 2 < {n}; k++) {{",
        f"{i3}const {t} *x = S + k * {n} + k + 1;",
        f"{i3}const int64_t len = {n} - k - 1;",
        f"{i3}const {t} norm = {sqrt}({dot}(x, x, len));",
        f"{i3}sub[k] = x[0];",
        f"{i3}if (norm == 0) continue;",
        f"{i3}const {t} alpha = x[0] > 0 ? -norm : norm;",
        f"{i3}for (int64_t j = 0; j < len; j++) v[j] = x[j];",
        f"{i3}v[0] -= alpha;",
        f"{i3}const {t} beta = 2 / {dot}(v, v, len);",
        f"{i3}for (int64_t i = 0; i < len; i++) p[i] = beta * {dot}(S + (k + 1 + i) * {n} + k + 1, v, len);",
        f"{i3}const {t} half = beta / 2 * {dot}(v, p, len);",
        f"{i3}for (int64_t i = 0; i < len; i++) p[i] -= half * v[i];",
        f"{i3}for (int64_t i = 0; i < len; i++) {{",
        f"{i4}{t} *row = S + (k + 1 + i) * {n} + k + 1;",
        f"{i4}const {t} vi = v[i], pi = p[i];",
        f"{i4}for (int64_t j = 0; j < len; j++) row[j] -= vi * p[j] + pi * v[j];",
        f"{i3}}}",
        f"{i3}sub[k] = alpha;",
        f"{i3}for (int64_t r = 0; r < {n}; r++) {{",
        f"{i4}{t} *row = V + r * {n} + k + 1;",
        f"{i4}const {t} f = beta * {dot}(row, v, len);",
        f"{i4}for (int64_t j = 0; j < len; j++) row[j] -= f * v[j];",
        f"{i3}}}",
        f"{i2}}}",
        f"{i2}for (int64_t i = 0; i < {n}; i++) W[i] = S[i * {n} + i];",
        f"{i2}if ({n} >= 2) sub[{n} - 2] = S[({n} - 1) * {n} + {n} - 2];",
        # S = Q^T: each row an eigenvector as the rotations go.
        f"{i2}for (int64_t i = 0; i < {n}; i++)",
        f"{i3}for (int64_t j = 0; j < {n}; j++) S[i * {n} + j] = V[j * {n} + i];",
        f"{i2}int64_t hi = {n} - 1, steps = 0;",
        f"{i2}while (hi > 0 && steps < {30 * n}) {{",
        f"{i3}if ({fabs}(sub[hi - 1]) <= {eps} * ({fabs}(W[hi - 1]) + {fabs}(W[hi]))) {{ sub[hi - 1] = 0; hi--; continue; }}",
        f"{i3}int64_t lo = hi - 1;",
        f"{i3}while (lo > 0 && {fabs}(sub[lo - 1]) > {eps} * ({fabs}(W[lo - 1]) + {fabs}(W[lo]))) lo--;",
        f"{i3}steps++;",
        f"{i3}const {t} half = (W[hi - 1] - W[hi]) / 2, bh = sub[hi - 1];",
        f"{i3}const {t} h = {hypot}(half, bh);",
        f"{i3}const {t} shift = W[hi] - bh * bh / (half + (half < 0 ? -h : h));",
        f"{i3}{t} x = W[lo] - shift, z = sub[lo];",
        f"{i3}for (int64_t k = lo; k < hi; k++) {{",
        f"{i4}const {t} r = {hypot}(x, z);",
        f"{i4}const {t} cs = r == 0 ? 1 : x / r, sn = r == 0 ? 0 : z / r;",
        f"{i4}if (k > lo) sub[k - 1] = r;",
        f"{i4}const {t} ak = W[k], ak1 = W[k + 1], bk = sub[k];",
        f"{i4}W[k] = cs * cs * ak + 2 * cs * sn * bk + sn * sn * ak1;",
        f"{i4}W[k + 1] = sn * sn * ak - 2 * cs * sn * bk + cs * cs * ak1;",
        f"{i4}sub[k] = cs * sn * (ak1 - ak) + (cs * cs - sn * sn) * bk;",
        f"{i4}if (k + 1 < hi) {{ z = sn * sub[k + 1]; sub[k + 1] *= cs; x = sub[k]; }}",
        f"{i4}{t} *rk = S + k * {n}, *rk1 = rk + {n};",
        f"{i4}for (int64_t j = 0; j < {n}; j++) {{",
        f"{i5}const {t} u = rk[j], w = rk1[j];",
        f"{i5}rk[j] = cs * u + sn * w;",
        f"{i5}rk1[j] = cs * w - sn * u;",
        f"{i4}}}",
        f"{i3}}}",
        f"{i2}}}",
        f"{i2}for (int64_t i = 0; i < {n}; i++) {{",
        f"{i3}int64_t least = i;",
        f"{i3}for (int64_t j = i + 1; j < {n}; j++) if (W[j] < W[least]) least = j;",
        f"{i3}if (least != i) {{",
        f"{i4}const {t} w = W[i]; W[i] = W[least]; W[least] = w;",
        f"{i4}for (int64_t k = 0; k < {n}; k++) {{ const {t} u = S[i * {n} + k]; "
        f"S[i * {n} + k] = S[least * {n} + k]; S[least * {n} + k] = u; }}",
        f"{i3}}}",
        f"{i3}int64_t big = 0;",
        f"{i3}for (int64_t k = 1; k < {n}; k++) if ({fabs}(S[i * {n} + k]) > {fabs}(S[i * {n} + big])) big = k;",
        f"{i3}const {t} flip = S[i * {n} + big] < 0 ? -1 : 1;",
        f"{i3}for (int64_t k = 0; k < {n}; k++) V[k * {n} + i] = flip * S[i * {n} + k];",
        f"{i2}}}",
        f"{i1}}}",
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
