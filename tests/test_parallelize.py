"""`parallelize` (gradc.Options.threads): loops proven independent run on
OpenMP threads, and every result is bitwise the serial one (no sum is split
across threads), for matrix products of every shape the tiler handles and
for elementwise nests. Values are also checked against NumPy."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

import gradc
from gradc.backend.build import DEFAULT_FLAGS
import gradc.numpy as gnp
from tests.conftest import run_in_threads

pytestmark = pytest.mark.usefixtures("private_cache")


def _matrices(shape_a, shape_b, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape_a).astype(np.float32), rng.standard_normal(shape_b).astype(np.float32)


def _both(fn, *args):
    """Results with one thread and with two (and the two-thread C source)."""
    serial = gradc.jit(fn)(*args)
    parallel_fn = gradc.jit(fn, threads=2)
    return serial, parallel_fn(*args), parallel_fn.lower(*args).c_source


PRODUCTS = {
    "a @ b": (lambda a, b: a @ b, lambda m, k, n: ((m, k), (k, n)), lambda a, b: a @ b),
    "a.T @ b": (lambda a, b: a.T @ b, lambda m, k, n: ((k, m), (k, n)), lambda a, b: a.T @ b),
    "a @ b.T": (lambda a, b: a @ b.T, lambda m, k, n: ((m, k), (n, k)), lambda a, b: a @ b.T),
}
SIZES = [1, 7, 33, 257, 512, 1000]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("product", list(PRODUCTS))
def test_matmul_two_threads_is_bitwise_serial(product, size):
    fn, shapes, reference = PRODUCTS[product]
    a, b = _matrices(*shapes(size, size, size), seed=size)
    serial, parallel, _ = _both(fn, a, b)
    assert np.array_equal(serial, parallel)
    np.testing.assert_allclose(parallel, reference(a.astype(np.float64), b.astype(np.float64)),
                               rtol=1e-4, atol=1e-4 * np.sqrt(size))


@pytest.mark.parametrize("m,k,n", [(257, 33, 520), (520, 300, 7), (1024, 64, 1024)])
def test_rectangular_matmul_two_threads_is_bitwise_serial(m, k, n):
    a, b = _matrices((m, k), (k, n), seed=m + k + n)
    serial, parallel, source = _both(lambda a, b: a @ b, a, b)
    assert np.array_equal(serial, parallel)
    assert "#pragma omp parallel for num_threads(2)" in source
    np.testing.assert_allclose(parallel, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-3)


def test_large_matmul_is_parallel():
    a, b = _matrices((512, 512), (512, 512), seed=3)
    source = gradc.lower(lambda a, b: a @ b, a, b, options={"threads": 2}).c_source
    assert "#pragma omp parallel for num_threads(2) schedule(static)" in source
    assert "gradc_thread_num()" in source  # the packed A panels are private per thread


def test_batched_matmul_two_threads_is_bitwise_serial():
    a, b = _matrices((3, 130, 257), (3, 257, 140), seed=5)
    serial, parallel, source = _both(lambda a, b: a @ b, a, b)
    assert "#pragma omp" in source
    assert np.array_equal(serial, parallel)
    np.testing.assert_allclose(parallel, np.matmul(a.astype(np.float64), b), rtol=1e-4, atol=1e-3)


def test_f64_matmul_with_epilogue_two_threads_is_bitwise_serial():
    rng = np.random.default_rng(11)
    a, b = rng.standard_normal((300, 200)), rng.standard_normal((200, 310))
    serial, parallel, _ = _both(lambda a, b: gnp.tanh(a @ b + 1.0), a, b)
    assert np.array_equal(serial, parallel)
    np.testing.assert_allclose(parallel, np.tanh(a @ b + 1.0), rtol=1e-12, atol=1e-12)


def test_elementwise_nest_two_threads_is_bitwise_serial():
    x = np.random.default_rng(1).standard_normal((600, 700)).astype(np.float32)
    serial, parallel, source = _both(lambda x: gnp.exp(gnp.tanh(x) * 2.0) + x, x)
    assert "#pragma omp parallel for num_threads(2)" in source
    assert np.array_equal(serial, parallel)
    np.testing.assert_allclose(parallel, np.exp(np.tanh(x) * 2.0) + x, rtol=1e-5, atol=1e-6)


def test_reductions_two_threads_are_bitwise_serial():
    """Full sums stay serial; row sums run a row per thread, each in order."""
    x = np.random.default_rng(2).standard_normal((700, 600)).astype(np.float32)
    fn = lambda x: (gnp.sum(x), gnp.sum(x, axis=0), gnp.sum(x, axis=1))  # noqa: E731
    serial, parallel, _ = _both(fn, x)
    for s, p, want in zip(serial, parallel, (x.sum(dtype=np.float64), x.sum(0, dtype=np.float64),
                                             x.sum(1, dtype=np.float64))):
        assert np.array_equal(s, p)
        np.testing.assert_allclose(p, want, rtol=1e-4, atol=1e-2)


def test_tiny_nests_stay_serial():
    """Below min-work the C is exactly the serial C: no pragma, no OpenMP."""
    x = np.ones((16, 16), np.float32)
    fn = lambda x: gnp.tanh(x @ x) + 1.0  # noqa: E731
    serial = gradc.lower(fn, x).c_source
    parallel = gradc.lower(fn, x, options={"threads": 2}).c_source
    assert "omp" not in parallel
    assert parallel == serial


def test_without_openmp_the_same_source_is_serial():
    """Built with -fno-openmp the pragmas are skipped, thread_num() is 0,
    and the numbers are the same."""
    a, b = _matrices((300, 300), (300, 300), seed=7)
    with_omp = gradc.jit(lambda a, b: a @ b, threads=2)(a, b)
    without = gradc.jit(lambda a, b: a @ b, threads=2, cflags=[*DEFAULT_FLAGS, "-fno-openmp"])(a, b)
    assert np.array_equal(with_omp, without)


def test_parallel_kernel_from_python_threads():
    """libgomp loads with the extension, and concurrent calls from Python
    threads (each starting its own OpenMP team) give the serial numbers."""
    a, b = _matrices((400, 400), (400, 400), seed=9)
    fn = gradc.jit(lambda a, b: a @ b, threads=2)
    want = gradc.jit(lambda a, b: a @ b)(a, b)
    results = []

    def work(_: int) -> None:
        for _ in range(5):
            results.append(fn(a, b))

    run_in_threads(work)
    assert len(results) == 20
    assert all(np.array_equal(r, want) for r in results)


@pytest.mark.parametrize("flags", [["-std=gnu99", "-fopenmp"], ["-std=c99", "-pedantic"]])
def test_parallel_c_is_warning_free(tmp_path, flags):
    """With OpenMP and without it (pragmas behind #ifdef _OPENMP, so no
    unknown-pragma warnings), the parallel C compiles without warnings."""
    a, b = _matrices((300, 257), (257, 310), seed=13)
    fn = lambda a, b: (gnp.tanh(a @ b), gnp.sum(a, axis=1))  # noqa: E731
    source = gradc.lower(fn, a, b, options={"threads": 2}).c_source
    assert "gradc_thread_num()" in source
    (tmp_path / "k.c").write_text(source)
    done = subprocess.run(["cc", *flags, "-Wall", "-Wextra", "-Werror", "-O2", "-c", "k.c"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
