import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer

from fastmlp._kernels.optimizers import (
    CHUNK,
    adam_step,
    n_chunks,
    sgd_step,
    squared_norm,
)
from tests.conftest import DTYPES, TOL

# Sizes around the chunk boundary, and a coefficient/intercept split inside a chunk.
SIZES = [(1, 1), (37, 30), (CHUNK + 5, CHUNK - 3), (3 * CHUNK + 1, 2 * CHUNK + 7)]


def gradient_parts(rng, n_parts, n_params, dtype):
    """Per-chunk raw gradients G (n_parts, n_params) and their sum in chunk order,
    in the working dtype, as the step adds them."""
    G = rng.standard_normal((n_parts, n_params)).astype(dtype)
    total = G[0].copy()
    for c in range(1, n_parts):
        total += G[c]
    return G, total


def scikit_grads(theta, graw, n_coef, alpha, sw_sum):
    coef = (graw[:n_coef] + alpha * theta[:n_coef]) / sw_sum
    return [coef, graw[n_coef:] / sw_sum]


@pytest.mark.parametrize("n_parts", [1, 3])
@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_steps_match_scikit_learn(rng, dtype, size, nesterov, parallel, n_parts):
    n_params, n_coef = size
    theta = rng.standard_normal(n_params).astype(dtype)
    velocity = np.zeros_like(theta)
    partial = np.empty(n_chunks(n_params))
    ref = [theta[:n_coef].astype(np.float64), theta[n_coef:].astype(np.float64)]
    opt = SGDOptimizer(ref, 0.05, "constant", 0.9, nesterov, 0.5)
    for _ in range(3):  # several steps exercise the velocity
        G, graw = gradient_parts(rng, n_parts, n_params, dtype)
        grads = scikit_grads(
            np.concatenate(ref), graw.astype(np.float64), n_coef, 1e-3, 7.0
        )
        opt.update_params(ref, grads)
        sq = sgd_step(
            theta,
            velocity,
            partial,
            G,
            n_parts,
            n_coef,
            1e-3,
            7.0,
            0.05,
            0.9,
            nesterov,
            parallel,
        )
        assert_allclose(theta, np.concatenate(ref), **TOL[dtype])
        assert_allclose(
            sq, (ref[0] ** 2).sum(), rtol=1e-10 if dtype == np.float64 else 1e-5
        )


@pytest.mark.parametrize("n_parts", [1, 3])
@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_steps_match_scikit_learn(rng, dtype, size, parallel, n_parts):
    n_params, n_coef = size
    theta = rng.standard_normal(n_params).astype(dtype)
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    partial = np.empty(n_chunks(n_params))
    ref = [theta[:n_coef].astype(np.float64), theta[n_coef:].astype(np.float64)]
    opt = AdamOptimizer(ref, 0.01, 0.9, 0.999, 1e-8)
    for t in range(1, 4):
        G, graw = gradient_parts(rng, n_parts, n_params, dtype)
        grads = scikit_grads(
            np.concatenate(ref), graw.astype(np.float64), n_coef, 1e-3, 5.0
        )
        opt.update_params(ref, grads)
        lr_t = 0.01 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        sq = adam_step(
            theta,
            m,
            v,
            partial,
            G,
            n_parts,
            n_coef,
            1e-3,
            5.0,
            lr_t,
            0.9,
            0.999,
            1e-8,
            parallel,
        )
        # Adam divides by sqrt(v) + eps, which amplifies float32 rounding of v.
        tol = TOL[dtype] if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
        assert_allclose(theta, np.concatenate(ref), **tol)
        assert_allclose(
            sq, (ref[0] ** 2).sum(), rtol=1e-10 if dtype == np.float64 else 1e-4
        )


def test_steps_bit_identical_serial_and_parallel(rng):
    n = 5 * CHUNK + 11
    g = rng.standard_normal(n).astype(np.float32)
    out = []
    for parallel in (False, True):
        theta = np.linspace(-1, 1, n, dtype=np.float32)
        m, v = np.zeros_like(theta), np.zeros_like(theta)
        sq = adam_step(
            theta,
            m,
            v,
            np.empty(n_chunks(n)),
            g[None, :],
            1,
            n - 100,
            1e-4,
            3.0,
            1e-3,
            0.9,
            0.999,
            1e-8,
            parallel,
        )
        out.append((theta, sq))
    assert_array_equal(out[0][0], out[1][0])
    assert out[0][1] == out[1][1]


def test_squared_norm(rng):
    x = rng.standard_normal(1001)
    assert_allclose(squared_norm(x), x @ x, rtol=1e-12)
