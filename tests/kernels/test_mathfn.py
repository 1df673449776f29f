"""fastmlp's vectorisable exp and tanh against NumPy's (libm), in ulps."""

import numpy as np
import pytest
from numba import njit

from fastmlp._jit import FASTMATH
from fastmlp._kernels.mathfn import vexp, vtanh
from tests.conftest import DTYPES


@njit(fastmath=FASTMATH)
def apply_exp(out, x):
    for i in range(x.shape[0]):
        out[i] = vexp(x[i])


@njit(fastmath=FASTMATH)
def apply_tanh(out, x):
    for i in range(x.shape[0]):
        out[i] = vtanh(x[i])


def inputs(rng, dtype, bound):
    return np.concatenate(
        [
            rng.uniform(-bound, bound, 20000),
            rng.uniform(-1, 1, 20000),
            rng.uniform(-1e-6, 1e-6, 2000),
            [0.0, -0.0, 1e-30, -1e-30],
        ]
    ).astype(dtype)


def ulps(got, expected, dtype):
    expected = expected.astype(np.float64)
    scale = np.maximum(np.abs(expected), np.finfo(dtype).tiny)
    return np.abs(got.astype(np.float64) - expected) / scale / np.finfo(dtype).eps


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_within_two_ulps(rng, dtype):
    x = inputs(rng, dtype, 80.0)
    out = np.empty_like(x)
    apply_exp(out, x)
    assert ulps(out, np.exp(x.astype(np.float64)), dtype).max() <= 2.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_within_three_ulps(rng, dtype):
    x = inputs(rng, dtype, 30.0)
    out = np.empty_like(x)
    apply_tanh(out, x)
    assert ulps(out, np.tanh(x.astype(np.float64)), dtype).max() <= 3.0
    assert np.all(np.abs(out) <= 1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_special_values(dtype):
    x = np.array([np.inf, -np.inf, np.nan, 1e4, -1e4, 0.0], dtype=dtype)
    e = np.empty_like(x)
    apply_exp(e, x)
    np.testing.assert_array_equal(e, [np.inf, 0.0, np.nan, np.inf, 0.0, 1.0])
    t = np.empty_like(x)
    apply_tanh(t, x)
    np.testing.assert_array_equal(t, [1.0, -1.0, np.nan, 1.0, -1.0, 0.0])
