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

The buffer is cut into fixed chunks of CHUNK elements; ``step_chunk`` does one
chunk (the training loop runs the chunks as tasks of one parallel region), the
squared norm is summed per chunk into ``partial`` and merged in chunk order, so
the result does not depend on the thread count.

The solver is a code (SOLVER_*) and the hyper-parameters an array (H_*), so one
compiled step serves every solver. SOLVER_NONE only adds the chunks' gradient
parts into G[0] (the full-batch gradient L-BFGS asks for).
"""

import numpy as np

from .._jit import inline_kernel, kernel

CHUNK = 4096

SOLVER_SGD, SOLVER_ADAM, SOLVER_NONE = 0, 1, 2
# step_chunk's other task: sum the parts and return the gradient's squared norm
# over the chunk (gradient clipping, the loop's PHASE_NORM), no step
SOLVER_NORM = 3

# hp[] entries (float64)
H_LR, H_MOMENTUM, H_NESTEROV, H_BETA_1, H_BETA_2, H_EPSILON, H_ALPHA = range(7)
H_LOSS_PARAM = 7  # the loss's parameter (losses.py: huber's delta, the quantile)
H_WEIGHT_DECAY = 8  # decoupled weight decay of the coefficients (0: none)
# The learning-rate shape (codes[loop.C_LR_SHAPE]): its steps in all (T) and
# warm-up steps (W), see lr_factor; the gradient's norm bound (0: no clipping).
H_TOTAL_STEPS, H_WARMUP_STEPS, H_MAX_GRAD_NORM = 9, 10, 11
N_HP = 12

# codes[loop.C_LR_SHAPE]: the learning rate's shape over a fit's steps
SHAPE_CONSTANT, SHAPE_COSINE, SHAPE_LINEAR = 0, 1, 2


def n_chunks(n_params):
    """Length of the ``partial`` buffer the step kernels need."""
    return max(1, (n_params + CHUNK - 1) // CHUNK)


@inline_kernel
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


@inline_kernel
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


@inline_kernel
def _decay_range(theta, graw, alpha, keep):
    """Decoupled weight decay on one slice of the coefficients: the batch's L2
    term joins its gradient first (graw += alpha * theta, the theta before the
    decay), then theta *= keep (keep = 1 - lr * weight_decay). The solver's
    step then runs with alpha 0 on them. Slices in, loop from 0 (_sgd_range)."""
    T = theta.dtype.type
    a, kp = T(alpha), T(keep)
    for k in range(theta.shape[0]):
        graw[k] = graw[k] + a * theta[k]
        theta[k] = kp * theta[k]


@inline_kernel
def lr_factor(shape, t, warm, total):
    """s(t), the learning rate's factor at step t (0-based) of a fit of
    ``total`` steps with ``warm`` warm-up steps: (t + 1) / W during the warm-up,
    then 1 (SHAPE_CONSTANT), (1 + cos(pi f)) / 2 (SHAPE_COSINE) or 1 - f
    (SHAPE_LINEAR) with f = (t - W) / (T - W), held at 1 from step T on (and
    f = 0 when the warm-up is the whole fit)."""
    if t < warm:
        return (t + 1.0) / warm
    span = total - warm
    if shape == SHAPE_CONSTANT or span <= 0.0:
        return 1.0
    f = min((t - warm) / span, 1.0)
    if shape == SHAPE_COSINE:
        return (1.0 + np.cos(np.pi * f)) / 2.0
    return 1.0 - f


@inline_kernel
def _grad_sq_range(theta, graw, alpha, n_penalised, sw_sum):
    """Sum of g^2 over one slice, g = (graw + alpha * theta) / sw_sum as the
    step computes it (alpha 0 from element n_penalised on: the intercepts),
    squared in float64. Slices in, loop from 0 (_sgd_range); one loop for both
    parts, as a second inlined copy costs compile time on every first fit."""
    T = theta.dtype.type
    a, s, zero = T(alpha), T(sw_sum), T(0)
    sq = 0.0
    for k in range(theta.shape[0]):
        ak = a if k < n_penalised else zero
        g = np.float64((graw[k] + ak * theta[k]) / s)
        sq += g * g
    return sq


@inline_kernel
def _chunk_bounds(c, n_params, n_coef):
    """Chunk c split at n_coef into a penalised and an unpenalised range."""
    lo = c * CHUNK
    hi = min(lo + CHUNK, n_params)
    mid = min(max(lo, n_coef), hi)
    return lo, mid, hi


@inline_kernel
def _sum_parts(G, n_parts, lo, hi):
    """G[0, lo:hi] += G[1, lo:hi] + ... + G[n_parts - 1, lo:hi], in part order."""
    g0 = G[0, lo:hi]
    for c in range(1, n_parts):
        gc = G[c, lo:hi]
        for k in range(g0.shape[0]):
            g0[k] += gc[k]


@inline_kernel
def step_chunk(theta, opt, G, n_parts, c, n_coef, solver, hp, sw_sum, lr, keep):
    """Chunk c of one update: G[0] += G[1] + ... + G[n_parts - 1] over the chunk,
    then the solver's step on it. Returns the chunk's share of ||coefs||^2 after
    the update (0 for SOLVER_NONE, which only sums; SOLVER_NORM sums, then
    returns the chunk's share of the squared gradient norm, the coefficients'
    L2 term included, and steps nothing: gradient clipping's first pass).

    theta (n_params,); opt (2, n_params): SGD velocity in opt[0], Adam's m, v in
    opt[0], opt[1]; G (>= n_parts, n_params) raw gradient sums of the batch's
    row chunks; hp the H_* array; ``lr`` the step size of this update (Adam's
    bias-corrected lr_t); ``keep`` the coefficients' decoupled weight decay
    factor 1 - lr_t * weight_decay (1: none), with lr_t the scheduled learning
    rate (not Adam's bias-corrected step size). Gradient clipping divides
    ``sw_sum`` by the clipping factor (the loop's PHASE_NORM).

    Inlined (Numba IR) into its callers rather than a kernel of its own: as a
    kernel it existed twice once run_task was compiled, on its own and linked
    into run_task, and the two copies were optimised differently (reassociated
    SGD updates); the compiling process ran one and processes that load
    run_task from the cache ran the other, so SGD weights differed in the last
    bits between the first run and later ones (tests/test_cache.py)."""
    lo, mid, hi = _chunk_bounds(c, theta.shape[0], n_coef)
    _sum_parts(G, n_parts, lo, hi)
    if solver == SOLVER_NONE:
        return 0.0
    graw = G[0]
    alpha = hp[H_ALPHA]
    if solver == SOLVER_NORM:
        return _grad_sq_range(theta[lo:hi], graw[lo:hi], alpha, mid - lo, sw_sum)
    # decoupled weight decay of the coefficients, W <- (1 - lr wd) W before the
    # step, with the learning rate itself (not Adam's bias-corrected step size)
    if keep != 1.0:
        _decay_range(theta[lo:mid], graw[lo:mid], alpha, keep)
        alpha = 0.0  # the L2 term is in graw now
    if solver == SOLVER_ADAM:
        b1, b2, eps = hp[H_BETA_1], hp[H_BETA_2], hp[H_EPSILON]
        m, v = opt[0], opt[1]
        sq = _adam_range(
            theta[lo:mid], m[lo:mid], v[lo:mid], graw[lo:mid], alpha, sw_sum, lr,
            b1, b2, eps,
        )  # fmt: skip
        _adam_range(
            theta[mid:hi], m[mid:hi], v[mid:hi], graw[mid:hi], 0.0, sw_sum, lr,
            b1, b2, eps,
        )  # fmt: skip
        return sq
    mu, nesterov = hp[H_MOMENTUM], hp[H_NESTEROV] != 0.0
    vel = opt[0]
    sq = _sgd_range(
        theta[lo:mid], vel[lo:mid], graw[lo:mid], alpha, sw_sum, lr, mu, nesterov
    )
    _sgd_range(theta[mid:hi], vel[mid:hi], graw[mid:hi], 0.0, sw_sum, lr, mu, nesterov)
    return sq


@kernel
def optimizer_step(theta, opt, partial, G, n_parts, n_coef, solver, hp, sw_sum, lr):
    """A whole update, chunk after chunk (the serial composition of step_chunk
    that the training loop runs as parallel tasks); returns ||coefs||^2 after it."""
    nc = n_chunks_jit(theta.shape[0])
    keep = 1.0 - hp[H_LR] * hp[H_WEIGHT_DECAY]
    for c in range(nc):
        partial[c] = step_chunk(
            theta, opt, G, n_parts, c, n_coef, solver, hp, sw_sum, lr, keep
        )
    total = 0.0
    for c in range(nc):
        total += partial[c]
    return total


@inline_kernel
def n_chunks_jit(n_params):
    """n_chunks inside compiled code."""
    return max(1, (n_params + CHUNK - 1) // CHUNK)


@inline_kernel
def squared_norm(x):
    """sum(x**2) in float64, in index order."""
    total = 0.0
    for k in range(x.shape[0]):
        total += np.float64(x[k]) * np.float64(x[k])
    return total
