import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer

from fastmlp._kernels.optimizers import (
    CHUNK,
    H_ALPHA,
    H_BETA_1,
    H_BETA_2,
    H_EPSILON,
    H_MOMENTUM,
    H_NESTEROV,
    N_HP,
    SOLVER_ADAM,
    SOLVER_NONE,
    SOLVER_SGD,
    n_chunks,
    optimizer_step,
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


def hyperparameters(alpha, momentum=0.0, nesterov=False, betas=(0.9, 0.999), eps=1e-8):
    hp = np.zeros(N_HP)
    hp[H_ALPHA], hp[H_MOMENTUM], hp[H_NESTEROV] = alpha, momentum, float(nesterov)
    hp[H_BETA_1], hp[H_BETA_2], hp[H_EPSILON] = betas[0], betas[1], eps
    return hp


def scikit_grads(theta, graw, n_coef, alpha, sw_sum):
    coef = (graw[:n_coef] + alpha * theta[:n_coef]) / sw_sum
    return [coef, graw[n_coef:] / sw_sum]


@pytest.mark.parametrize("n_parts", [1, 3])
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_steps_match_scikit_learn(rng, dtype, size, nesterov, n_parts):
    n_params, n_coef = size
    theta = rng.standard_normal(n_params).astype(dtype)
    opt_state = np.zeros((2, n_params), dtype=dtype)
    partial = np.empty(n_chunks(n_params))
    hp = hyperparameters(1e-3, momentum=0.9, nesterov=nesterov)
    ref = [theta[:n_coef].astype(np.float64), theta[n_coef:].astype(np.float64)]
    opt = SGDOptimizer(ref, 0.05, "constant", 0.9, nesterov, 0.5)
    for _ in range(3):  # several steps exercise the velocity
        G, graw = gradient_parts(rng, n_parts, n_params, dtype)
        grads = scikit_grads(
            np.concatenate(ref), graw.astype(np.float64), n_coef, 1e-3, 7.0
        )
        opt.update_params(ref, grads)
        sq = optimizer_step(
            theta, opt_state, partial, G, n_parts, n_coef, SOLVER_SGD, hp, 7.0, 0.05
        )
        assert_allclose(theta, np.concatenate(ref), **TOL[dtype])
        assert_allclose(
            sq, (ref[0] ** 2).sum(), rtol=1e-10 if dtype == np.float64 else 1e-5
        )


@pytest.mark.parametrize("n_parts", [1, 3])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_steps_match_scikit_learn(rng, dtype, size, n_parts):
    n_params, n_coef = size
    theta = rng.standard_normal(n_params).astype(dtype)
    moments = np.zeros((2, n_params), dtype=dtype)
    partial = np.empty(n_chunks(n_params))
    hp = hyperparameters(1e-3)
    ref = [theta[:n_coef].astype(np.float64), theta[n_coef:].astype(np.float64)]
    opt = AdamOptimizer(ref, 0.01, 0.9, 0.999, 1e-8)
    for t in range(1, 4):
        G, graw = gradient_parts(rng, n_parts, n_params, dtype)
        grads = scikit_grads(
            np.concatenate(ref), graw.astype(np.float64), n_coef, 1e-3, 5.0
        )
        opt.update_params(ref, grads)
        lr_t = 0.01 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        sq = optimizer_step(
            theta, moments, partial, G, n_parts, n_coef, SOLVER_ADAM, hp, 5.0, lr_t
        )
        # Adam divides by sqrt(v) + eps, which amplifies float32 rounding of v.
        tol = TOL[dtype] if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
        assert_allclose(theta, np.concatenate(ref), **tol)
        assert_allclose(
            sq, (ref[0] ** 2).sum(), rtol=1e-10 if dtype == np.float64 else 1e-4
        )


@pytest.mark.parametrize("n_parts", [1, 3])
def test_gradient_only_step_sums_the_parts_and_leaves_theta(rng, n_parts):
    """SOLVER_NONE (L-BFGS's full-batch gradient): G[0] becomes the parts' sum
    in chunk order, theta and the optimizer state are not touched."""
    n_params = 2 * CHUNK + 9
    G, total = gradient_parts(rng, n_parts, n_params, np.float64)
    theta = rng.standard_normal(n_params)
    before = theta.copy()
    state = np.zeros((2, 0))
    sq = optimizer_step(
        theta, state, np.empty(n_chunks(n_params)), G, n_parts, CHUNK, SOLVER_NONE,
        hyperparameters(1e-3), 1.0, 0.1,
    )  # fmt: skip
    assert sq == 0.0
    assert_array_equal(theta, before)
    assert_array_equal(G[0], total)


def test_squared_norm(rng):
    x = rng.standard_normal(1001)
    assert_allclose(squared_norm(x), x @ x, rtol=1e-12)
