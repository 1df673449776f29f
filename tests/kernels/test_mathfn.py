"""fastmlp's vectorisable exp, tanh, expm1 and log1p against NumPy's (libm), and its
normal CDF against SciPy's (float32) or a long-double reference (float64), in ulps."""

import numpy as np
import pytest
import scipy.special
from numba import njit

from fastmlp._jit import FASTMATH, JIT_DISABLED
from fastmlp._kernels.mathfn import vexp, vexpm1, vlog1p, vndtr, vtanh
from tests.conftest import DTYPES


@njit(fastmath=FASTMATH)
def apply_exp(out, x):
    for i in range(x.shape[0]):
        out[i] = vexp(x[i])


@njit(fastmath=FASTMATH)
def apply_tanh(out, x):
    for i in range(x.shape[0]):
        out[i] = vtanh(x[i])


@njit(fastmath=FASTMATH)
def apply_expm1(out, x):
    for i in range(x.shape[0]):
        out[i] = vexpm1(x[i])


@njit(fastmath=FASTMATH)
def apply_log1p(out, x):
    for i in range(x.shape[0]):
        out[i] = vlog1p(x[i])


@njit(fastmath=FASTMATH)
def apply_ndtr(out, x):
    for i in range(x.shape[0]):
        out[i] = vndtr(x[i])


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


def magnitudes(rng, low, high, n=20000):
    """n values whose log10 is uniform in [low, high]."""
    return 10.0 ** rng.uniform(low, high, n)


@pytest.mark.parametrize("dtype", DTYPES)
def test_expm1_within_three_ulps(rng, dtype):
    low = -60.0 if dtype == np.float64 else -30.0
    x = np.concatenate(
        [
            inputs(rng, dtype, 1.0),
            rng.uniform(low, 80.0, 20000).astype(dtype),
            (magnitudes(rng, -30, 1.9) * rng.choice([-1, 1], 20000)).astype(dtype),
        ]
    )
    out = np.empty_like(x)
    apply_expm1(out, x)
    assert ulps(out, np.expm1(x.astype(np.float64)), dtype).max() <= 3.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_log1p_within_three_ulps(rng, dtype):
    x = np.concatenate(
        [
            rng.uniform(0.0, 1e6, 20000),
            rng.uniform(0.0, 3.0, 20000),
            magnitudes(rng, -30, 6),
            rng.uniform(-0.999, 0.0, 20000),
            -magnitudes(rng, -30, -0.001),
            [0.0, 1e-30, np.finfo(dtype).max],
        ]
    ).astype(dtype)
    out = np.empty_like(x)
    apply_log1p(out, x)
    assert ulps(out, np.log1p(x.astype(np.float64)), dtype).max() <= 3.0


def ndtr_reference(x):
    """Phi(x) for float64 x within 1 ulp, in long double (x87: 64-bit mantissa):
    erfc(z), z = |x| / sqrt(2), is 1 - erf(z) from erf's series of positive terms
    below z = 2, e^(-z^2) / sqrt(pi) over Laplace's continued fraction above, with
    e^(-z^2) from the exact split x^2 = h^2 + (|x| - h)(|x| + h), h = |x| cut to 26
    bits. scipy.special.ndtr rounds x / sqrt(2) and x^2 in float64 and is about
    x^2 ulp off in the tail (1000 at x = -37)."""
    L = np.longdouble
    a = np.abs(x)
    h = (a.view(np.int64) & ~np.int64(2**27 - 1)).view(np.float64)
    ez = np.exp(L(-0.5) * L(h * h)) * np.exp(L(-0.5) * L(a - h) * (L(a) + L(h)))
    z = L(a) / np.sqrt(L(2))
    sqrt_pi = np.sqrt(L("3.14159265358979323846264338327950288"))
    small = z < 2
    zs = np.where(small, z, L(0))
    term, erf_sum = zs, zs  # erf(z) = 2 e^(-z^2) / sqrt(pi) sum z (2z^2)^n / (2n+1)!!
    for n in range(1, 80):
        term = term * (2 * zs * zs) / (2 * n + 1)
        erf_sum = erf_sum + term
    zb = np.where(small, L(2), z)
    cf = zb  # erfc(z) = e^(-z^2) / (sqrt(pi) (z + (1/2) / (z + 1 / (z + ...))))
    for k in range(400, 0, -1):
        cf = zb + L(k / 2) / cf
    e = np.where(small, 1 - 2 * ez * erf_sum / sqrt_pi, ez / (sqrt_pi * cf))
    return np.where(x < 0, e / 2, 1 - e / 2).astype(np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_ndtr_within_four_ulps(rng, dtype):
    if dtype == np.float64 and JIT_DISABLED:
        pytest.skip("without the JIT vndtr is scipy.special.ndtr, x^2 ulp off")
    if dtype == np.float64 and np.finfo(np.longdouble).nmant < 63:
        pytest.skip("the float64 reference needs an extended long double")
    low, high = (-37.0, 9.0) if dtype == np.float64 else (-13.0, 6.0)
    # and float32's subnormal results (x < -12.95) and its underflow to 0 (-14.17)
    tail = rng.uniform(-14.6, -12.5, 2000)
    x = np.concatenate([inputs(rng, dtype, 3.0), rng.uniform(low, high, 20000), tail])
    x = x.astype(dtype)
    out = np.empty_like(x)
    apply_ndtr(out, x)
    x64 = x.astype(np.float64)
    scipy_ndtr = scipy.special.ndtr(x64)
    if dtype == np.float32:  # SciPy's float64 error is far below float32's ulp
        assert ulps(out, scipy_ndtr, dtype).max() <= 4.0
    else:
        assert ulps(out, ndtr_reference(x64), dtype).max() <= 4.0
        # SciPy rounds x / sqrt(2) and x^2: about x^2 ulp off in the tail
        assert np.all(ulps(out, scipy_ndtr, dtype) <= 10.0 + 1.5 * x64**2)
    assert np.all((out >= 0) & (out <= 1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_special_values_expm1_log1p_ndtr(dtype):
    x = np.array([np.inf, -np.inf, np.nan, 1e4, -1e4, 0.0], dtype=dtype)
    e = np.empty_like(x)
    apply_expm1(e, x)
    np.testing.assert_array_equal(e, [np.inf, -1.0, np.nan, np.inf, -1.0, 0.0])
    p = np.empty_like(x)
    apply_ndtr(p, x)
    np.testing.assert_array_equal(p, [1.0, 0.0, np.nan, 1.0, 0.0, 0.5])
    x = np.array([np.inf, -np.inf, np.nan, -1.0, -2.0, 0.0], dtype=dtype)
    g = np.empty_like(x)
    apply_log1p(g, x)
    np.testing.assert_array_equal(g, [np.inf, np.nan, np.nan, -np.inf, np.nan, 0.0])
