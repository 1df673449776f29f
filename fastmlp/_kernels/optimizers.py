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
def _sgd_range(theta, velocity, graw, alpha, sw_sum, lr, momentum, nesterov):
    """SGD on one slice of the buffers (alpha = 0 for intercepts); returns the
    slice's sum of squared updated values.

    Slices are passed in and the loop runs from 0: LLVM does not vectorise a
    ``range(lo, hi)`` loop over 1-D indices (anchors-measured.md), 7x slower here."""
    T = theta.dtype.type
    a, s, r, mu = T(alpha), T(sw_sum), T(lr), T(momentum)
    sq = 0.0
    for k in range(theta.shape[0]):
        g = (graw[k] + a * theta[k]) / s
        vk = mu * velocity[k] - r * g
        velocity[k] = vk
        if nesterov:
            t = theta[k] + (mu * vk - r * g)
        else:
            t = theta[k] + vk
        theta[k] = t
        sq += np.float64(t) * np.float64(t)
    return sq


@kernel
def _adam_range(theta, m, v, graw, alpha, sw_sum, lr_t, beta_1, beta_2, epsilon):
    """Adam on one slice of the buffers (alpha = 0 for intercepts); returns the
    slice's sum of squared updated values. Slices in, loop from 0 (see _sgd_range)."""
    T = theta.dtype.type
    a, s, r = T(alpha), T(sw_sum), T(lr_t)
    b1, b2, eps = T(beta_1), T(beta_2), T(epsilon)
    sq = 0.0
    for k in range(theta.shape[0]):
        g = (graw[k] + a * theta[k]) / s
        mk = b1 * m[k] + (T(1) - b1) * g
        vk = b2 * v[k] + (T(1) - b2) * (g * g)
        m[k] = mk
        v[k] = vk
        t = theta[k] + -r * mk / (np.sqrt(vk) + eps)
        theta[k] = t
        sq += np.float64(t) * np.float64(t)
    return sq


@kernel
def _chunk_bounds(c, n_params, n_coef):
    """Chunk c split at n_coef into a penalised and an unpenalised range."""
    lo = c * CHUNK
    hi = min(lo + CHUNK, n_params)
    mid = min(max(lo, n_coef), hi)
    return lo, mid, hi


@kernel
def _sum_parts(G, n_parts, lo, hi):
    """G[0, lo:hi] += G[1, lo:hi] + ... + G[n_parts - 1, lo:hi], in part order."""
    g0 = G[0, lo:hi]
    for c in range(1, n_parts):
        gc = G[c, lo:hi]
        for k in range(g0.shape[0]):
            g0[k] += gc[k]


@kernel
def _sgd_chunk(
    theta, velocity, G, n_parts, c, n_coef, alpha, sw_sum, lr, momentum, nesterov
):
    lo, mid, hi = _chunk_bounds(c, theta.shape[0], n_coef)
    _sum_parts(G, n_parts, lo, hi)
    graw = G[0]
    sq = _sgd_range(
        theta[lo:mid],
        velocity[lo:mid],
        graw[lo:mid],
        alpha,
        sw_sum,
        lr,
        momentum,
        nesterov,
    )
    _sgd_range(
        theta[mid:hi],
        velocity[mid:hi],
        graw[mid:hi],
        0.0,
        sw_sum,
        lr,
        momentum,
        nesterov,
    )
    return sq


@kernel
def _adam_chunk(
    theta, m, v, G, n_parts, c, n_coef, alpha, sw_sum, lr_t, beta_1, beta_2, epsilon
):
    lo, mid, hi = _chunk_bounds(c, theta.shape[0], n_coef)
    _sum_parts(G, n_parts, lo, hi)
    graw = G[0]
    sq = _adam_range(
        theta[lo:mid],
        m[lo:mid],
        v[lo:mid],
        graw[lo:mid],
        alpha,
        sw_sum,
        lr_t,
        beta_1,
        beta_2,
        epsilon,
    )
    _adam_range(
        theta[mid:hi],
        m[mid:hi],
        v[mid:hi],
        graw[mid:hi],
        0.0,
        sw_sum,
        lr_t,
        beta_1,
        beta_2,
        epsilon,
    )
    return sq


@parallel_kernel
def sgd_step(
    theta,
    velocity,
    partial,
    G,
    n_parts,
    n_coef,
    alpha,
    sw_sum,
    lr,
    momentum,
    nesterov,
    parallel,
):
    """One SGD update of theta and velocity in place; returns ||coefs||^2 after it.

    theta, velocity (n_params,); G (>= n_parts, n_params) holds the raw gradient
    sums of n_parts row chunks of the batch, added in chunk order into G[0];
    partial (n_chunks(n_params),) float64."""
    nc = (theta.shape[0] + CHUNK - 1) // CHUNK
    if parallel:
        for c in prange(nc):
            partial[c] = _sgd_chunk(
                theta,
                velocity,
                G,
                n_parts,
                c,
                n_coef,
                alpha,
                sw_sum,
                lr,
                momentum,
                nesterov,
            )
    else:
        for c in range(nc):
            partial[c] = _sgd_chunk(
                theta,
                velocity,
                G,
                n_parts,
                c,
                n_coef,
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
    G,
    n_parts,
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
    caller from the update count t). G, n_parts and shapes as in ``sgd_step``."""
    nc = (theta.shape[0] + CHUNK - 1) // CHUNK
    if parallel:
        for c in prange(nc):
            partial[c] = _adam_chunk(
                theta,
                m,
                v,
                G,
                n_parts,
                c,
                n_coef,
                alpha,
                sw_sum,
                lr_t,
                beta_1,
                beta_2,
                epsilon,
            )
    else:
        for c in range(nc):
            partial[c] = _adam_chunk(
                theta,
                m,
                v,
                G,
                n_parts,
                c,
                n_coef,
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
