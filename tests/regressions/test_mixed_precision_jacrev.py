"""jacrev with float32 arguments and float64 outputs (and the reverse): each
Jacobian block has its output's dtype, as jacfwd's does, and the values of
the analytic Jacobian. (Found by the random-program fuzzer; see
lit/regressions/found-jacrev-mixed-precision.py for the programs it found.)"""

import numpy as np
import pytest

import gradc


@pytest.mark.parametrize("jac", [gradc.jacrev, gradc.jacfwd], ids=["jacrev", "jacfwd"])
@pytest.mark.parametrize("dtypes", [(np.float32, np.float64), (np.float64, np.float32)])
def test_jacobian_blocks_have_the_outputs_dtype(jac, dtypes) -> None:
    x = np.array([1.5, -0.5], dtypes[0])
    c = np.array([0.25, 2.0, -1.0], dtypes[1])

    def f(x, c):
        return jac(lambda a: (a * 2.0, c * a[0], c))(x)

    d_twice, d_scaled, d_const = gradc.jit(f)(x, c)
    assert d_twice.dtype == x.dtype and d_scaled.dtype == np.float64 and d_const.dtype == c.dtype
    np.testing.assert_array_equal(d_twice, 2.0 * np.eye(2))
    np.testing.assert_array_equal(d_scaled, np.stack([c, np.zeros(3)], axis=1))
    np.testing.assert_array_equal(d_const, np.zeros((3, 2)))
