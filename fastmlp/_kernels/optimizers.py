"""SGD (momentum, Nesterov) and Adam steps on the flat parameter buffer.

``theta`` holds every coefficient matrix first (``theta[:n_coef]``) and every
intercept after, in scikit-learn's ``_pack`` order. The backward pass leaves the
*raw* gradient sums in ``graw`` (H.T @ dU and column sums of dU); the step applies
scikit-learn's normalisation on the fly,

    g = (graw + alpha * theta) / sw_sum   for coefficients (L2 penalty)
    g =  graw / sw_sum                    for intercepts,

so the gradient is never written back to memory. The step also returns
||coefficients||^2 after the update, which the next batch needs for its L2 term,
so the penalty costs no extra pass over the weights.

Formulas (scikit-learn ``_stochastic_optimizers.py``):
  sgd:  v = momentum * v - lr * g;  theta += momentum * v - lr * g (Nesterov) or v
  adam: m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
        theta -= lr_t * m / (sqrt(v) + epsilon),  lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)

The buffer is cut into fixed chunks of CHUNK elements; the squared norm is summed
per chunk into ``partial`` and merged in chunk order, so the result does not
depend on the thread count.
"""

import numpy as np
from numba import prange

from .._jit import kernel, parallel_kernel

CHUNK = 4096


def n_chunks(n_params):
    """Length of the ``partial`` buffer the step kernels need."""
    return max(1, (n_params + CHUNK - 1) // CHUNK)


@kernel
def _sgd_range(
    theta, velocity, graw, lo, hi, penalised, alpha, sw_sum, lr, momentum, nesterov
):
    T = theta.dtype.type
    a, s, r, mu = T(alpha), T(sw_sum), T(lr), T(momentum)
    sq = 0.0
    for k in range(lo, hi):
        if penalised:
            g = (graw[k] + a * theta[k]) / s
        else:
            g = graw[k] / s
        vk = mu * velocity[k] - r * g
        velocity[k] = vk
        if nesterov:
            theta[k] += mu * vk - r * g
        else:
            theta[k] += vk
        sq += np.float64(theta[k]) * np.float64(theta[k])
    return sq


@kernel
def _adam_range(
    theta, m, v, graw, lo, hi, penalised, alpha, sw_sum, lr_t, beta_1, beta_2, epsilon
):
    T = theta.dtype.type
    a, s, r = T(alpha), T(sw_sum), T(lr_t)
    b1, b2, eps = T(beta_1), T(beta_2), T(epsilon)
    sq = 0.0
    for k in range(lo, hi):
        if penalised:
            g = (graw[k] + a * theta[k]) / s
        else:
            g = graw[k] / s
        mk = b1 * m[k] + (T(1) - b1) * g
        vk = b2 * v[k] + (T(1) - b2) * (g * g)
        m[k] = mk
        v[k] = vk
        theta[k] += -r * mk / (np.sqrt(vk) + eps)
        sq += np.float64(theta[k]) * np.float64(theta[k])
    return sq


@kernel
def _chunk_bounds(c, n_params, n_coef):
    """Chunk c split at n_coef into a penalised and an unpenalised range."""
    lo = c * CHUNK
    hi = min(lo + CHUNK, n_params)
    mid = min(max(lo, n_coef), hi)
    return lo, mid, hi


@parallel_kernel
def sgd_step(
    theta,
    velocity,
    partial,
    graw,
    n_coef,
    alpha,
    sw_sum,
    lr,
    momentum,
    nesterov,
    parallel,
):
    """One SGD update of theta and velocity in place; returns ||coefs||^2 after it.

    theta, velocity, graw (n_params,); partial (n_chunks(n_params),) float64."""
    n_params = theta.shape[0]
    nc = (n_params + CHUNK - 1) // CHUNK
    yes, no = np.bool_(True), np.bool_(False)  # one specialisation of the range kernel
    if parallel:
        for c in prange(nc):
            lo, mid, hi = _chunk_bounds(c, n_params, n_coef)
            partial[c] = _sgd_range(
                theta,
                velocity,
                graw,
                lo,
                mid,
                yes,
                alpha,
                sw_sum,
                lr,
                momentum,
                nesterov,
            )
            _sgd_range(
                theta,
                velocity,
                graw,
                mid,
                hi,
                no,
                alpha,
                sw_sum,
                lr,
                momentum,
                nesterov,
            )
    else:
        for c in range(nc):
            lo, mid, hi = _chunk_bounds(c, n_params, n_coef)
            partial[c] = _sgd_range(
                theta,
                velocity,
                graw,
                lo,
                mid,
                yes,
                alpha,
                sw_sum,
                lr,
                momentum,
                nesterov,
            )
            _sgd_range(
                theta,
                velocity,
                graw,
                mid,
                hi,
                no,
                alpha,
                sw_sum,
                lr,
                momentum,
                nesterov,
            )
    total = 0.0
    for c in range(nc):
        total += partial[c]
    return total


@parallel_kernel
def adam_step(
    theta,
    m,
    v,
    partial,
    graw,
    n_coef,
    alpha,
    sw_sum,
    lr_t,
    beta_1,
    beta_2,
    epsilon,
    parallel,
):
    """One Adam update of theta, m, v in place; returns ||coefs||^2 after it.

    ``lr_t`` is the bias-corrected step size for this update (computed by the
    caller from the update count t). Shapes as in ``sgd_step``."""
    n_params = theta.shape[0]
    nc = (n_params + CHUNK - 1) // CHUNK
    yes, no = np.bool_(True), np.bool_(False)  # one specialisation of the range kernel
    if parallel:
        for c in prange(nc):
            lo, mid, hi = _chunk_bounds(c, n_params, n_coef)
            partial[c] = _adam_range(
                theta,
                m,
                v,
                graw,
                lo,
                mid,
                yes,
                alpha,
                sw_sum,
                lr_t,
                beta_1,
                beta_2,
                epsilon,
            )
            _adam_range(
                theta,
                m,
                v,
                graw,
                mid,
                hi,
                no,
                alpha,
                sw_sum,
                lr_t,
                beta_1,
                beta_2,
                epsilon,
            )
    else:
        for c in range(nc):
            lo, mid, hi = _chunk_bounds(c, n_params, n_coef)
            partial[c] = _adam_range(
                theta,
                m,
                v,
                graw,
                lo,
                mid,
                yes,
                alpha,
                sw_sum,
                lr_t,
                beta_1,
                beta_2,
                epsilon,
            )
            _adam_range(
                theta,
                m,
                v,
                graw,
                mid,
                hi,
                no,
                alpha,
                sw_sum,
                lr_t,
                beta_1,
                beta_2,
                epsilon,
            )
    total = 0.0
    for c in range(nc):
        total += partial[c]
    return total


@kernel
def squared_norm(x):
    """sum(x**2) in float64, in index order."""
    total = 0.0
    for k in range(x.shape[0]):
        total += np.float64(x[k]) * np.float64(x[k])
    return total
