"""Convolution, pooling and the jax.nn composites (gradc.lax.conv_general_dilated,
gradc.lax.conv, gradc.nn.conv, gradc.lax.reduce_window, gradc.nn.max_pool /
avg_pool, gradc.nn activations) against references written here: direct
loops over output positions in NumPy, Python's math module, central finite
differences. Many cases share one compiled function (few builds)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import gradc
import gradc.numpy as gnp
from gradc import lax, nn

RNG = np.random.default_rng(1234)


# --------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------


def ref_conv(x, w, strides, pads, ldil, rdil, groups):
    """x (N, C, spatial...), w (O, I, spatial...): cross-correlation by a loop
    over output positions. pads are explicit (lo, hi) pairs (negative crops)."""
    n_sp = x.ndim - 2
    # lhs dilation: zeros between elements
    sizes = [(n - 1) * d + 1 for n, d in zip(x.shape[2:], ldil)]
    xd = np.zeros(x.shape[:2] + tuple(sizes), x.dtype)
    xd[(slice(None), slice(None)) + tuple(slice(None, None, d) for d in ldil)] = x
    # padding, then cropping for negative amounts
    xp = np.pad(xd, [(0, 0), (0, 0)] + [(max(lo, 0), max(hi, 0)) for lo, hi in pads])
    crop = tuple(slice(max(-lo, 0), xp.shape[2 + i] - max(-hi, 0)) for i, (lo, hi) in enumerate(pads))
    xp = xp[(slice(None), slice(None)) + crop]
    ks = w.shape[2:]
    outs = [(xp.shape[2 + i] - ((ks[i] - 1) * rdil[i] + 1)) // strides[i] + 1 for i in range(n_sp)]
    O, I = w.shape[:2]
    per = O // groups
    y = np.zeros((x.shape[0], O, *outs), np.float64)
    for pos in itertools.product(*(range(o) for o in outs)):
        window = xp[(slice(None), slice(None)) + tuple(
            slice(p * s, p * s + (k - 1) * r + 1, r) for p, s, k, r in zip(pos, strides, ks, rdil)
        )]
        for g in range(groups):
            patch = window[:, g * I:(g + 1) * I].reshape(x.shape[0], -1).astype(np.float64)
            filt = w[g * per:(g + 1) * per].reshape(per, -1).astype(np.float64)
            y[(slice(None), slice(g * per, (g + 1) * per)) + pos] = patch @ filt.T
    return y


def same_pads(sizes, ks, strides, rdil, lower=False):
    """SAME as documented by JAX: output ceil(n / s), total padding split with
    the odd one at the end (at the start for SAME_LOWER)."""
    pairs = []
    for n, k, s, r in zip(sizes, ks, strides, rdil):
        eff = (k - 1) * r + 1
        out = -(-n // s)
        total = max((out - 1) * s + eff - n, 0)
        lo = total // 2 if not lower else total - total // 2
        pairs.append((lo, total - lo))
    return pairs


def to_layout(a, canonical, spec):
    """Transpose an array from canonical order (e.g. 'NCHW') to `spec`."""
    return np.transpose(a, [canonical.index(c) for c in spec])


# One row: (lhs spec, rhs spec, out spec, N, C, O, groups, spatial sizes,
# kernel, strides, padding, lhs_dilation, rhs_dilation)
CASES = [
    # 2-D, default layouts
    ("NCHW", "OIHW", "NCHW", 2, 3, 4, 1, (6, 5), (3, 3), (1, 1), "SAME", None, None),
    ("NCHW", "OIHW", "NCHW", 2, 3, 4, 1, (7, 6), (3, 2), (2, 2), "VALID", None, None),
    ("NCHW", "OIHW", "NCHW", 1, 4, 6, 2, (5, 6), (2, 3), (1, 2), [(1, 2), (0, 1)], None, (2, 1)),
    ("NCHW", "OIHW", "NCHW", 2, 4, 4, 4, (6, 6), (3, 3), (2, 1), "SAME_LOWER", None, None),
    ("NCHW", "OIHW", "NCHW", 1, 2, 3, 1, (5, 4), (2, 2), (1, 1), [(-1, 1), (2, -1)], None, None),
    ("NCHW", "OIHW", "NCHW", 1, 2, 2, 2, (3, 4), (3, 2), (1, 1), [(2, 2), (1, 1)], (2, 3), None),
    # 2-D, channels last and mixed
    ("NHWC", "HWIO", "NHWC", 2, 3, 5, 1, (6, 6), (3, 3), (1, 1), "SAME", None, None),
    ("NHWC", "HWIO", "NHWC", 2, 6, 4, 2, (7, 5), (3, 3), (2, 2), "SAME", None, (1, 2)),
    ("NHWC", "OIHW", "NCHW", 1, 3, 2, 1, (5, 5), (2, 2), (3, 1), "VALID", None, None),
    ("NCHW", "HWIO", "NHWC", 2, 2, 3, 1, (4, 6), (1, 3), (1, 1), [(0, 0), (1, 1)], None, (1, 2)),
    # 1-D
    ("NCH", "OIH", "NCH", 2, 3, 4, 1, (9,), (3,), (1,), "SAME", None, None),
    ("NCH", "OIH", "NCH", 2, 4, 6, 2, (10,), (4,), (3,), "VALID", None, (2,)),
    ("NHC", "HIO", "NHC", 3, 2, 2, 1, (8,), (2,), (2,), [(1, 0)], (2,), None),
    ("NHC", "HIO", "NHC", 1, 3, 3, 3, (7,), (3,), (1,), "SAME", None, (3,)),
]


def _case_arrays(case, dtype):
    lspec, rspec, ospec, n, c, o, groups, sizes, ks, strides, padding, ldil, rdil = case
    canon_l = "NC" + "HW"[: len(sizes)]
    canon_r = "OI" + "HW"[: len(sizes)]
    x = RNG.standard_normal((n, c, *sizes)).astype(dtype)
    w = RNG.standard_normal((o, c // groups, *ks)).astype(dtype)
    return x, w, to_layout(x, canon_l, lspec), to_layout(w, canon_r, rspec)


def _case_ref(case, x, w):
    lspec, rspec, ospec, n, c, o, groups, sizes, ks, strides, padding, ldil, rdil = case
    ldil = ldil or (1,) * len(sizes)
    rdil = rdil or (1,) * len(sizes)
    if isinstance(padding, str):
        pads = [(0, 0)] * len(sizes) if padding == "VALID" else same_pads(
            sizes, ks, strides, rdil, lower=padding == "SAME_LOWER")
    else:
        pads = padding
    y = ref_conv(x, w, strides, pads, ldil, rdil, groups)
    return to_layout(y, "NC" + "HW"[: len(sizes)], ospec)


def _case_call(case, x, w):
    lspec, rspec, ospec, n, c, o, groups, sizes, ks, strides, padding, ldil, rdil = case
    return lax.conv_general_dilated(
        x, w, strides, padding, lhs_dilation=ldil, rhs_dilation=rdil,
        dimension_numbers=(lspec, rspec, ospec), feature_group_count=groups,
    )


def _chunks(items, size):
    """Cases in groups of `size`, one build each: gcc's time grows faster
    than linearly in the size of one C function, so a few mid-sized builds
    compile faster than one big one."""
    return [items[i:i + size] for i in range(0, len(items), size)]


F32_CASES = [CASES[0], CASES[2], CASES[7], CASES[11]]


@pytest.mark.parametrize("dtype, cases", [(np.float64, CASES), (np.float32, F32_CASES)])
def test_conv_general_dilated_values(dtype, cases):
    """Every case against the loops, a few cases per compiled function."""
    tol = 1e-12 if dtype == np.float64 else 2e-5
    for group in _chunks(cases, 4):
        arrays = [_case_arrays(case, dtype) for case in group]
        inputs = [(xl, wl) for _, _, xl, wl in arrays]
        got = gradc.jit(lambda pairs, group=group: [
            _case_call(case, x, w) for case, (x, w) in zip(group, pairs)
        ])(inputs)
        for case, (x, w, _, _), y in zip(group, arrays, got):
            want = _case_ref(case, x, w)
            assert y.dtype == dtype, case
            assert y.shape == want.shape, (case, y.shape, want.shape)
            np.testing.assert_allclose(y, want, rtol=tol, atol=tol * 10, err_msg=str(case))


def test_conv_untraced_and_friendly_forms():
    """On NumPy arrays conv runs in NumPy; lax.conv and nn.conv agree with
    the reference; nn.conv promotes f32 with f64 to f64, as NumPy."""
    x = RNG.standard_normal((2, 3, 6, 5))
    w = RNG.standard_normal((4, 3, 3, 3))
    want = ref_conv(x, w, (2, 1), [(1, 1), (0, 0)], (1, 1), (1, 1), 1)
    np.testing.assert_allclose(lax.conv(x, w, (2, 1), [(1, 1), (0, 0)]), want, rtol=1e-12)
    x_nhwc = x.transpose(0, 2, 3, 1)
    w_hwio = w.transpose(2, 3, 1, 0)
    f = gradc.jit(lambda x, w, x2, w2: (
        lax.conv(x, w, (2, 1), [(1, 1), (0, 0)]),
        nn.conv(x2, w2, stride=(2, 1), padding=[(1, 1), (0, 0)], layout="NHWC"),
        nn.conv(x.astype(np.float32), w, padding="SAME", dilation=2),
    ))
    a, b, c = f(x, w, x_nhwc, w_hwio)
    np.testing.assert_allclose(a, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b, want.transpose(0, 2, 3, 1), rtol=1e-12, atol=1e-12)
    assert c.dtype == np.float64
    x32 = x.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(
        c, ref_conv(x32, w, (1, 1), same_pads((6, 5), (3, 3), (1, 1), (2, 2)), (1, 1), (2, 2), 1),
        rtol=1e-12, atol=1e-12,
    )


# --------------------------------------------------------------------------
# Derivatives against central finite differences of the reference
# --------------------------------------------------------------------------

DERIV_CASES = [CASES[2], CASES[5], CASES[7], CASES[12]]


def _loss_ref(case, x, w, r):
    return float(np.sum(np.tanh(_case_ref(case, x, w)) * r))


def test_conv_first_derivatives_both_modes():
    """grad (reverse) and jvp (forward) of sum(tanh(conv) * r) in x and w,
    along random directions, against central differences (float64)."""
    data = []
    for case in DERIV_CASES:
        x, w, _, _ = _case_arrays(case, np.float64)
        r = RNG.standard_normal(_case_ref(case, x, w).shape)
        data.append((x, w, r))

    def canon(case, x, w):
        lspec, rspec = case[0], case[1]
        sp = "HW"[: len(case[7])]
        return to_layout(x, "NC" + sp, lspec), to_layout(w, "OI" + sp, rspec)

    def loss(case, x, w, r):
        return gnp.sum(gnp.tanh(_case_call(case, x, w)) * r)

    def derivatives(k, item, direction):
        """Reverse and forward derivatives of case k (one build per case)."""
        case, (x, w, r), (dx, dw) = DERIV_CASES[k], item, direction
        g = gradc.grad(lambda x, w: loss(case, x, w, r), argnums=(0, 1))(x, w)
        _, t = gradc.jvp(lambda x, w: loss(case, x, w, r), (x, w), (dx, dw))
        return g, t

    items, directions = [], []
    for case, (x, w, r) in zip(DERIV_CASES, data):
        xl, wl = canon(case, x, w)
        items.append((xl, wl, r))  # r is in the output layout already
        dx, dw = RNG.standard_normal(x.shape), RNG.standard_normal(w.shape)
        directions.append(canon(case, dx, dw))
    results = [
        gradc.jit(lambda item, direction, k=k: derivatives(k, item, direction))(items[k], directions[k])
        for k in range(len(DERIV_CASES))
    ]
    h = 1e-5
    for case, (x, w, r), (dxl, dwl), ((gx, gw), t) in zip(DERIV_CASES, data, directions, results):
        sp = "HW"[: len(case[7])]
        dx = to_layout(dxl, case[0], "NC" + sp)
        dw = to_layout(dwl, case[1], "OI" + sp)
        fd = (_loss_ref(case, x + h * dx, w + h * dw, r) - _loss_ref(case, x - h * dx, w - h * dw, r)) / (2 * h)
        reverse = np.sum(gx * dxl) + np.sum(gw * dwl)
        assert abs(reverse - fd) <= 1e-6 * (1 + abs(fd)), (case, reverse, fd)
        assert abs(float(t) - fd) <= 1e-6 * (1 + abs(fd)), (case, t, fd)


def test_conv_second_derivative():
    """v^T H v of sum(tanh(conv(x, w))) in (x, w), from gradc.hessian, against
    a second central difference of the reference (small strided case)."""
    case = CASES[3]
    x, w, xl, wl = _case_arrays(case, np.float64)
    x, w, xl, wl = x[:1], w, xl[:1], wl
    flat = np.concatenate([xl.ravel(), wl.ravel()])
    nx = xl.size

    def f(theta):
        xx = gnp.reshape(theta[:nx], xl.shape)
        ww = gnp.reshape(theta[nx:], wl.shape)
        return gnp.sum(gnp.tanh(_case_call(case, xx, ww)))

    hess = gradc.hessian(f)(flat)
    v = RNG.standard_normal(flat.size)

    def ref(theta):
        xx = theta[:nx].reshape(xl.shape)
        ww = theta[nx:].reshape(wl.shape)
        return float(np.sum(np.tanh(_case_ref(case, xx, ww))))

    h = 1e-4
    fd = (ref(flat + h * v) - 2 * ref(flat) + ref(flat - h * v)) / h**2
    got = v @ hess @ v
    assert abs(got - fd) <= 1e-4 * (1 + abs(fd)), (got, fd)


# --------------------------------------------------------------------------
# Pooling and reduce_window
# --------------------------------------------------------------------------


def ref_pool(x, window, strides, pads, kind, count_include_pad=True):
    """x (N, spatial..., C): loops over output positions; pads (lo, hi)."""
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, [(0, 0)] + list(pads) + [(0, 0)], constant_values=fill)
    valid = np.pad(np.ones(x.shape[1:-1]), list(pads))
    outs = [(xp.shape[1 + i] - window[i]) // strides[i] + 1 for i in range(len(window))]
    y = np.zeros((x.shape[0], *outs, x.shape[-1]))
    for pos in itertools.product(*(range(o) for o in outs)):
        sl = tuple(slice(p * s, p * s + k) for p, s, k in zip(pos, strides, window))
        win = xp[(slice(None),) + sl + (slice(None),)]
        axes = tuple(range(1, 1 + len(window)))
        if kind == "max":
            y[(slice(None),) + pos] = win.max(axis=axes)
        else:
            count = math.prod(window) if count_include_pad else valid[sl].sum()
            y[(slice(None),) + pos] = win.sum(axis=axes) / count
    return y


def test_pooling_values_and_max_tie_rule():
    """max_pool / avg_pool (SAME, VALID, pairs, strides, count_include_pad),
    1-D and 2-D, unbatched input; and the derivative of max at ties going to
    the first maximum in row-major window order (JAX's select_and_scatter)."""
    x2 = RNG.standard_normal((2, 7, 6, 3))
    x1 = RNG.standard_normal((3, 9, 2))
    ties = np.array([[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 1.0, 3.0]])[None, :, :, None]
    many = np.round(RNG.standard_normal((2, 6, 7, 2)))  # many ties
    cot = RNG.standard_normal((2, 3, 4, 2))

    def f(x2, x1, ties, many):
        return [
            nn.max_pool(x2, (3, 3), strides=(2, 2), padding="SAME"),
            nn.max_pool(x2, (2, 3)),
            nn.avg_pool(x2, (3, 2), strides=(2, 1), padding="SAME"),
            nn.avg_pool(x2, (3, 3), strides=(1, 2), padding="SAME", count_include_pad=False),
            nn.avg_pool(x1, (4,), strides=(2,), padding=((1, 2),)),
            nn.max_pool(x1[0], (3,), padding="SAME"),
            lax.reduce_window(x2, 0.0, lax.add, (1, 2, 2, 1), (1, 1, 1, 1), "VALID"),
            gradc.grad(lambda t: gnp.sum(nn.max_pool(t, (2, 2), strides=(1, 1))))(ties),
            gradc.grad(lambda t: gnp.sum(nn.max_pool(t, (3, 3), strides=(2, 2), padding="SAME") * cot))(many),
        ]

    got = gradc.jit(f)(x2, x1, ties, many)
    # the gradient of max_pool on `many`: each window's cotangent to its first
    # maximum in row-major order (np.argmax of the flattened window)
    pads = same_pads((6, 7), (3, 3), (2, 2), (1, 1))
    padded = np.pad(many, [(0, 0), *pads, (0, 0)], constant_values=-np.inf)
    first = np.zeros_like(padded)
    for n, i, j, c in itertools.product(range(2), range(3), range(4), range(2)):
        a, b = divmod(int(np.argmax(padded[n, 2 * i:2 * i + 3, 2 * j:2 * j + 3, c])), 3)
        first[n, 2 * i + a, 2 * j + b, c] += cot[n, i, j, c]
    first = first[:, pads[0][0]:pads[0][0] + 6, pads[1][0]:pads[1][0] + 7]
    sp = same_pads
    want = [
        ref_pool(x2, (3, 3), (2, 2), sp((7, 6), (3, 3), (2, 2), (1, 1)), "max"),
        ref_pool(x2, (2, 3), (1, 1), [(0, 0), (0, 0)], "max"),
        ref_pool(x2, (3, 2), (2, 1), sp((7, 6), (3, 2), (2, 1), (1, 1)), "avg"),
        ref_pool(x2, (3, 3), (1, 2), sp((7, 6), (3, 3), (1, 2), (1, 1)), "avg", count_include_pad=False),
        ref_pool(x1, (4,), (2,), [(1, 2)], "avg"),
        ref_pool(x1[:1], (3,), (1,), sp((9,), (3,), (1,), (1,)), "max")[0],
        ref_pool(x2, (2, 2), (1, 1), [(0, 0), (0, 0)], "avg") * 4,
        # windows [[1,3],[3,2]] -> first max at (0,1), column 1;
        # [[3,3],[2,1]] -> (0,0), column 1; [[3,0],[1,3]] -> (0,0), column 2
        # (what jax.grad of reduce_window max gives on this input)
        np.array([[0.0, 2.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])[None, :, :, None],
        first,
    ]
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape, (k, g.shape, w.shape)
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12, err_msg=str(k))


def test_pooling_derivatives():
    """avg_pool and max_pool (no ties) gradients and a jvp against central
    differences of the reference."""
    x = RNG.standard_normal((2, 5, 6, 2))
    r1 = RNG.standard_normal((2, 3, 3, 2))
    r2 = RNG.standard_normal((2, 5, 3, 2))

    def loss(x):
        a = nn.max_pool(x, (3, 2), strides=(2, 2), padding="SAME")
        b = nn.avg_pool(x, (2, 3), strides=(1, 2), padding="SAME", count_include_pad=False)
        return gnp.sum(gnp.sin(a) * r1) + gnp.sum(gnp.sin(b) * r2)

    def ref(x):
        a = ref_pool(x, (3, 2), (2, 2), same_pads((5, 6), (3, 2), (2, 2), (1, 1)), "max")
        b = ref_pool(x, (2, 3), (1, 2), same_pads((5, 6), (2, 3), (1, 2), (1, 1)), "avg", False)
        return float(np.sum(np.sin(a) * r1) + np.sum(np.sin(b) * r2))

    v = RNG.standard_normal(x.shape)
    g, t = gradc.jit(lambda x, v: (gradc.grad(loss)(x), gradc.jvp(loss, (x,), (v,))[1]))(x, v)
    h = 1e-6
    fd = (ref(x + h * v) - ref(x - h * v)) / (2 * h)
    assert abs(np.sum(g * v) - fd) <= 1e-6 * (1 + abs(fd))
    assert abs(float(t) - fd) <= 1e-6 * (1 + abs(fd))


# --------------------------------------------------------------------------
# jax.nn composites
# --------------------------------------------------------------------------

ERF = np.vectorize(math.erf)


def _ref_activations(x):
    """Values per jax.nn's documented formulas, with Python's math module."""
    sig = 1 / (1 + np.exp(-x))
    return {
        "relu6": np.minimum(np.maximum(x, 0), 6),
        "gelu": x * 0.5 * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
        "gelu_exact": x * 0.5 * (1 + ERF(x / math.sqrt(2))),
        "silu": x * sig,
        "elu": np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
        "leaky_relu": np.where(x >= 0, x, 0.01 * x),
        "log_sigmoid": -np.log1p(np.exp(-x)),
        "softplus": np.log1p(np.exp(x)),
        "celu": np.maximum(x, 0) + 0.5 * np.expm1(np.minimum(x, 0) / 0.5),
        "selu": 1.0507009873554804934193349852946 * np.where(x > 0, x, 1.6732632423543772848170429916717 * np.expm1(np.minimum(x, 0))),
        "hard_tanh": np.clip(x, -1, 1),
    }


def _activations(x):
    return {
        "relu6": nn.relu6(x),
        "gelu": nn.gelu(x),
        "gelu_exact": nn.gelu(x, approximate=False),
        "silu": nn.swish(x),
        "elu": nn.elu(x),
        "leaky_relu": nn.leaky_relu(x),
        "log_sigmoid": nn.log_sigmoid(x),
        "softplus": nn.softplus(x),
        "celu": nn.celu(x, alpha=0.5),
        "selu": nn.selu(x),
        "hard_tanh": nn.hard_tanh(x),
    }


def test_activation_values_and_derivatives():
    """Values (float64 and float32 dtype kept) against the formulas, and
    first and second derivatives (elementwise: grad of the sum, and the
    diagonal of the Hessian via grad of grad) against central differences,
    at points away from the kinks (0, 6, +-1)."""
    x = np.array([-7.5, -3.2, -1.7, -0.6, -0.2, 0.3, 0.8, 1.4, 2.5, 5.1, 6.7, 9.0])
    names = list(_ref_activations(x))

    def f(x, x32):
        vals = _activations(x)
        d1 = {k: gradc.grad(lambda t, k=k: gnp.sum(_activations(t)[k]))(x) for k in names}
        d2 = {
            k: gradc.grad(lambda t, k=k: gnp.sum(gradc.grad(lambda u: gnp.sum(_activations(u)[k]))(t)))(x)
            for k in names
        }
        return vals, d1, d2, _activations(x32)

    vals, d1, d2, vals32 = gradc.jit(f)(x, x.astype(np.float32))
    ref = _ref_activations(x)
    h = 1e-5
    up, down = _ref_activations(x + h), _ref_activations(x - h)
    mid = ref
    for k in names:
        np.testing.assert_allclose(vals[k], ref[k], rtol=1e-13, atol=1e-15, err_msg=k)
        assert vals32[k].dtype == np.float32, k
        np.testing.assert_allclose(vals32[k], ref[k], rtol=2e-6, atol=2e-6, err_msg=k)
        np.testing.assert_allclose(d1[k], (up[k] - down[k]) / (2 * h), rtol=1e-7, atol=1e-8, err_msg=k)
        h2 = 1e-4
        up2, down2 = _ref_activations(x + h2)[k], _ref_activations(x - h2)[k]
        np.testing.assert_allclose(d2[k], (up2 - 2 * mid[k] + down2) / h2**2, rtol=1e-4, atol=1e-5, err_msg=k)


def test_activation_kinks_follow_jax():
    """relu6' is 0 at 0 and 6 (JAX's custom jvp); leaky_relu' is 1 at 0
    (x >= 0 branch); elu' is alpha at 0 (x > 0 is false); hard_tanh' is 1 at +-1 (the middle branch)."""
    x = np.array([0.0, 6.0, -1.0, 1.0])
    g = gradc.jit(lambda x: [
        gradc.grad(lambda t: gnp.sum(f(t)))(x)
        for f in (nn.relu6, nn.leaky_relu, lambda t: nn.elu(t, 2.0), nn.hard_tanh)
    ])(x)
    np.testing.assert_array_equal(g[0], [0.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(g[1], [1.0, 1.0, 0.01, 1.0])
    np.testing.assert_allclose(g[2], [2.0, 1.0, 2.0 * math.exp(-1.0), 1.0], rtol=1e-15)
    np.testing.assert_array_equal(g[3], [1.0, 0.0, 1.0, 1.0])


def test_log_softmax_standardize_one_hot():
    x = RNG.standard_normal((3, 5)) * 4
    r = RNG.standard_normal((3, 5))

    def ref_lsm(x, axis):
        m = x.max(axis=axis, keepdims=True)
        return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))

    def ref_std(x, axis):
        mu = x.mean(axis=axis, keepdims=True)
        return (x - mu) / np.sqrt(((x - mu) ** 2).mean(axis=axis, keepdims=True) + 1e-5)

    def loss(x):
        return gnp.sum(nn.log_softmax(x, axis=0) * r) + gnp.sum(gnp.sin(nn.standardize(x)) * r)

    def ref_loss(x):
        return float(np.sum(ref_lsm(x, 0) * r) + np.sum(np.sin(ref_std(x, -1)) * r))

    a, b, c, g = gradc.jit(lambda x: (
        nn.log_softmax(x), nn.standardize(x, axis=0), nn.standardize(x, algorithm="stable"), gradc.grad(loss)(x)
    ))(x)
    np.testing.assert_allclose(a, ref_lsm(x, -1), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(b, ref_std(x, 0), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(c, ref_std(x, -1), rtol=1e-12, atol=1e-12)
    v = RNG.standard_normal(x.shape)
    h = 1e-6
    fd = (ref_loss(x + h * v) - ref_loss(x - h * v)) / (2 * h)
    assert abs(np.sum(g * v) - fd) <= 1e-6 * (1 + abs(fd))
    labels = np.array([[0, 3], [2, 7]])
    want = np.zeros((2, 2, 4))
    for i, j in itertools.product(range(2), range(2)):
        if labels[i, j] < 4:
            want[i, j, labels[i, j]] = 1
    np.testing.assert_array_equal(nn.one_hot(labels, 4), want)
    np.testing.assert_array_equal(nn.one_hot(labels, 4, axis=0), np.moveaxis(want, -1, 0))
    assert nn.one_hot(labels, 4, dtype=np.float32).dtype == np.float32


# --------------------------------------------------------------------------
# Bad input: located GradcErrors at trace time
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x, w: lax.conv(x, w[:, :2], (1, 1), "SAME"), "features"),
        (lambda x, w: lax.conv_general_dilated(x, w, (1, 1), "SAME", feature_group_count=2), "divide"),
        (lambda x, w: lax.conv(x, w, (1, 1), "FULL"), "padding"),
        (lambda x, w: lax.conv(x, w, (1, 1), [(1, 1)]), "pair per spatial"),
        (lambda x, w: lax.conv(x, w, (0, 1), "SAME"), "window_strides"),
        (lambda x, w: lax.conv(x[:, :, :2], w, (1, 1), "VALID"), "larger"),
        (lambda x, w: lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NCHW", "OIHW", "NCXW")), "spatial"),
        (lambda x, w: lax.conv_general_dilated(x, w, (1, 1), "SAME", lhs_dilation=(2, 1)), "lhs_dilation"),
        (lambda x, w: lax.conv(x, w.astype(np.float32), (1, 1), "SAME"), "dtype"),
        (lambda x, w: nn.conv(x, w, layout="CHWN"), "layout"),
        (lambda x, w: nn.max_pool(x, (2, 2, 2, 2)), "window_shape"),
        (lambda x, w: nn.one_hot(x, 3), "labels must be integers"),
    ],
)
def test_bad_input_is_a_located_gradc_error(call, message):
    x = np.ones((1, 3, 5, 5))
    w = np.ones((4, 3, 3, 3))
    with pytest.raises(gradc.GradcError, match=message) as info:
        gradc.jit(call)(x, w)
    assert info.value.location is not None and "test_conv.py" in info.value.location
