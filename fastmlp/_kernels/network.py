"""The network: forward, backward and whole-epoch training, composed from kernels.

Parameters live in one flat buffer ``theta`` (all coefficient matrices, then all
intercepts, scikit-learn's ``_pack`` order). ``layout`` is an int64 array with one
row per layer, columns ``[W_OFF, B_OFF, FAN_IN, FAN_OUT, A_OFF]``: the offsets of
W_l (fan_in, fan_out) and b_l (fan_out,) in theta, and of the layer's output block
in the activation/delta work buffers (room for ``max_rows * fan_out`` values).

Maths (per mini-batch of nb rows, layers l = 0 .. L-1):
  forward   U_l = H_{l-1} W_l + b_l,   H_l = f_l(U_l),   H_{-1} = X_batch
  output    dU_{L-1} = (P - Y) * sw    (canonical link, see losses.py)
  backward  dW_l = H_{l-1}^T dU_l,  db_l = 1^T dU_l,
            dU_{l-1} = (dU_l W_l^T) * f'_{l-1}(H_{l-1})
The raw sums dW_l, db_l go to ``graw``; the optimizer step applies alpha and 1/sw_sum.

Nothing here allocates: every buffer is passed in, sized once per fit.
``parallel`` picks the prange branch of each kernel; it is decided from the shapes
only, and every kernel is bit-identical whatever the thread count.
"""

from collections import namedtuple

import numpy as np
from numba import prange

from .._jit import composite_kernel, inline_kernel, kernel, parallel_kernel
from .activations import activation_backward, bias_activation_forward
from .gemm import matmul_nn, matmul_nt, matmul_tn
from .losses import loss_forward_backward
from .optimizers import adam_step, sgd_step
from .reduce import column_sum
from .sparse import (
    batch_input,
    batch_rows,
    input_forward,
    input_weight_grad,
)
from .views import view1d, view2d

W_OFF, B_OFF, FAN_IN, FAN_OUT, A_OFF = 0, 1, 2, 3, 4

# Every work buffer a training epoch touches, allocated once per fit (see
# _solver.Workspace). Per-chunk buffers have a leading axis of n_split.
Buffers = namedtuple(
    "Buffers",
    [
        "G",  # (n_split, n_params) raw gradient sums, one row per chunk
        "acts",  # (n_split, chunk activation size) layer outputs
        "deltas",  # (n_split, chunk activation size) layer deltas
        "work",  # (n_split, gemm scratch) GEMM packing
        "xb",  # (batch_rows, n_features) gathered dense batch
        "yb",  # (batch_rows, n_outputs) gathered targets
        "swb",  # (batch_rows,) gathered sample weights
        "partial",  # (n_chunks(n_params),) float64 step partial sums
        "losses",  # (n_split,) float64 per-chunk loss sums
        "sw_sums",  # (n_split,) float64 per-chunk weight sums
    ],
)

# codes[] entries: activations, loss, solver; whether kernels take their prange
# branch; whether the optimizer step does; rows per chunk when a batch is split;
# whether a split batch's chunks run in parallel (0: one after the other, the
# same arithmetic, for a process that must not enter a parallel region).
C_ACT, C_OUT, C_LOSS, C_SOLVER, C_PARALLEL, C_STEP_PARALLEL, C_CHUNK_ROWS = range(7)
C_SPLIT_PARALLEL = 7
N_CODES = 8
SOLVER_SGD, SOLVER_ADAM = 0, 1

# hp[] entries (float64)
H_LR, H_MOMENTUM, H_NESTEROV, H_BETA_1, H_BETA_2, H_EPSILON, H_ALPHA = range(7)
N_HP = 7


@inline_kernel
def layer_view(buf, layout, layer, n_rows):
    """The (n_rows, fan_out) block of ``buf`` that belongs to ``layer``."""
    return view2d(buf, layout[layer, A_OFF], n_rows, layout[layer, FAN_OUT])


@inline_kernel
def weights(theta, layout, layer):
    """Views (W, b) of layer ``layer`` into theta: W (fan_in, fan_out), b (fan_out,)."""
    return (
        view2d(
            theta, layout[layer, W_OFF], layout[layer, FAN_IN], layout[layer, FAN_OUT]
        ),
        view1d(theta, layout[layer, B_OFF], layout[layer, FAN_OUT]),
    )


@composite_kernel
def forward(acts, work, Xb, theta, layout, act_code, out_code, parallel):
    """Forward pass of the batch Xb (dense (nb, n_features) or CSRRows); layer
    outputs written into ``acts``.

    Returns the (nb, n_outputs) view of the output layer's activations."""
    nb = batch_rows(Xb)
    n_layers = layout.shape[0]
    # np.bool_, not a literal False: a literal would compile its own copy of matmul_nn.
    overwrite = np.bool_(False)
    W, b = weights(theta, layout, 0)
    H = layer_view(acts, layout, 0, nb)  # (nb, fan_out)
    input_forward(H, Xb, W, parallel, work)
    bias_activation_forward(H, b, out_code if n_layers == 1 else act_code, parallel)
    for layer in range(1, n_layers):
        W, b = weights(theta, layout, layer)
        U = layer_view(acts, layout, layer, nb)  # (nb, fan_out)
        matmul_nn(U, H, W, overwrite, parallel, work)
        code = out_code if layer == n_layers - 1 else act_code
        bias_activation_forward(U, b, code, parallel)
        H = U
    return H


@composite_kernel
def forward_backward(
    graw,
    acts,
    deltas,
    work,
    Xb,
    Yb,
    swb,
    theta,
    layout,
    act_code,
    out_code,
    loss_code,
    parallel,
):
    """Forward and backward pass of one batch; raw gradient sums into ``graw``.

    Xb dense (nb, n_features) or CSRRows, Yb (nb, n_outputs), swb (nb,). Returns
    the weighted sum of the per-row losses (float64), without the L2 term."""
    nb = Yb.shape[0]
    last = layout.shape[0] - 1
    P = forward(acts, work, Xb, theta, layout, act_code, out_code, parallel)
    dU = layer_view(deltas, layout, last, nb)
    loss_sum = loss_forward_backward(dU, P, Yb, swb, loss_code)
    for layer in range(last, 0, -1):
        dU = layer_view(deltas, layout, layer, nb)  # (nb, fan_out)
        H = layer_view(acts, layout, layer - 1, nb)  # (nb, fan_in)
        dW, db = weights(graw, layout, layer)
        matmul_tn(dW, H, dU, parallel, work)  # H.T @ dU
        column_sum(db, dU, parallel)
        W, _ = weights(theta, layout, layer)
        dH = layer_view(deltas, layout, layer - 1, nb)  # (nb, fan_in)
        matmul_nt(dH, dU, W, parallel, work)  # dU @ W.T
        activation_backward(dH, H, act_code, parallel)
    dU = layer_view(deltas, layout, 0, nb)
    dW, db = weights(graw, layout, 0)
    input_weight_grad(dW, Xb, dU, parallel, work)  # X.T @ dU
    column_sum(db, dU, parallel)
    return loss_sum


@kernel
def gather_targets(Yb, swb, Y, sw, idx, start, stop):
    """Copy rows idx[start:stop] of Y and sw into the batch buffers; return sum(sw)."""
    sw_sum = 0.0
    for r in range(stop - start):
        i = idx[start + r]
        for j in range(Y.shape[1]):
            Yb[r, j] = Y[i, j]
        swb[r] = sw[i]
        sw_sum += np.float64(sw[i])
    return sw_sum


@composite_kernel
def chunk_forward_backward(
    c, G, acts, deltas, work, losses, sw_sums, xb, yb, swb, X, Y, sw, idx, start, stop,
    theta, layout, codes
):  # fmt: skip
    """Gather, forward and backward of chunk c of the batch idx[start:stop] with
    serial kernels, into chunk c's buffers (see split_forward_backward)."""
    nb = stop - start
    chunk_rows = codes[C_CHUNK_ROWS]
    r0 = c * chunk_rows
    r1 = min(r0 + chunk_rows, nb)
    Xc = batch_input(xb[r0:r1], X, idx, start + r0, start + r1)
    sw_sums[c] = gather_targets(
        yb[r0:r1], swb[r0:r1], Y, sw, idx, start + r0, start + r1
    )
    losses[c] = forward_backward(
        G[c],
        acts[c],
        deltas[c],
        work[c],
        Xc,
        yb[r0:r1],
        swb[r0:r1],
        theta,
        layout,
        codes[C_ACT],
        codes[C_OUT],
        codes[C_LOSS],
        np.bool_(False),
    )


@parallel_kernel
def split_forward_backward(
    G,
    acts,
    deltas,
    work,
    losses,
    sw_sums,
    xb,
    yb,
    swb,
    X,
    Y,
    sw,
    idx,
    start,
    stop,
    theta,
    layout,
    codes,
):
    """Gather, forward and backward of the batch idx[start:stop], cut into row
    chunks of ``chunk_rows``: one parallel region per batch, each task gathering
    and running one chunk with serial kernels into its own buffers (G[c], acts[c],
    deltas[c], work[c]; its rows of xb, yb, swb in ``buf``).

    Returns the number of chunks; losses[c] and sw_sums[c] hold chunk c's weighted
    loss sum and weight sum. The chunking depends on the batch's size only, so the
    result is the same for any number of threads (the step adds the chunks'
    gradients in order), and the same when codes[C_SPLIT_PARALLEL] is 0 and the
    chunks run one after the other. Gathering inside the region leaves no serial
    gap in which the thread pool would go to sleep between batches."""
    nb = stop - start
    chunk_rows = codes[C_CHUNK_ROWS]
    n_parts = (nb + chunk_rows - 1) // chunk_rows
    if codes[C_SPLIT_PARALLEL] != 0:
        for c in prange(n_parts):
            chunk_forward_backward(
                c, G, acts, deltas, work, losses, sw_sums, xb, yb, swb, X, Y, sw,
                idx, start, stop, theta, layout, codes,
            )  # fmt: skip
    else:
        for c in range(n_parts):
            chunk_forward_backward(
                c, G, acts, deltas, work, losses, sw_sums, xb, yb, swb, X, Y, sw,
                idx, start, stop, theta, layout, codes,
            )  # fmt: skip
    return n_parts


@composite_kernel
def train_epoch(
    theta, opt, buf, X, Y, sw, idx, layout, codes, hp, batch_size, t, sqnorm
):
    """One epoch of mini-batch training, entirely in compiled code.

    Batches are idx[0:B], idx[B:2B], ... (idx is the epoch's shuffled order, drawn
    by the caller). For each batch: gather rows, forward, loss, backward, update.
    A batch is split into row chunks of codes[C_CHUNK_ROWS] rows, run in parallel
    (split_forward_backward), when G has room for more than one chunk.

    theta (n_params,) updated in place; opt (2, n_params): SGD velocity in opt[0],
    Adam m, v in opt[0], opt[1]; ``buf`` the fit's Buffers. ``t`` is Adam's
    update count and ``sqnorm`` is ||coefficients||^2 for the current theta.
    Returns (sum over batches of batch_loss * batch_rows, t, sqnorm, diverged),
    with batch_loss the scikit-learn batch objective:
    weighted mean loss + 0.5 * alpha * sqnorm / sw_sum.

    ``diverged`` is -1 after a full epoch. When a batch's loss or the
    coefficients' squared norm after its step is not finite, the epoch stops
    right after that batch and ``diverged`` is the batch's index (0-based):
    theta and opt are then garbage, for the caller to discard. The check reads
    two scalars the loop computes anyway, so a finite epoch's arithmetic is
    unchanged.
    """
    n = idx.shape[0]
    n_coef = layout[0, B_OFF]
    act_code, out_code, loss_code = codes[C_ACT], codes[C_OUT], codes[C_LOSS]
    solver, parallel = codes[C_SOLVER], codes[C_PARALLEL] != 0
    step_parallel = codes[C_STEP_PARALLEL] != 0
    split = buf.G.shape[0] > 1
    alpha = hp[H_ALPHA]
    accumulated = 0.0
    diverged = -1
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        nb = stop - start
        if split:
            # The buffers go in one by one: passing the Buffers namedtuple into this
            # prange kernel trained wrong models (iris accuracy 0.72 instead of
            # 0.98); the cause inside Numba's parfor lowering is not isolated yet.
            n_parts = split_forward_backward(
                buf.G,
                buf.acts,
                buf.deltas,
                buf.work,
                buf.losses,
                buf.sw_sums,
                buf.xb,
                buf.yb,
                buf.swb,
                X,
                Y,
                sw,
                idx,
                start,
                stop,
                theta,
                layout,
                codes,
            )
            loss_sum = 0.0
            sw_sum = 0.0
            for c in range(n_parts):
                loss_sum += buf.losses[c]
                sw_sum += buf.sw_sums[c]
        else:
            n_parts = 1
            Yb, s = buf.yb[:nb], buf.swb[:nb]
            Xb = batch_input(buf.xb, X, idx, start, stop)
            sw_sum = gather_targets(Yb, s, Y, sw, idx, start, stop)
            loss_sum = forward_backward(
                buf.G[0],
                buf.acts[0],
                buf.deltas[0],
                buf.work[0],
                Xb,
                Yb,
                s,
                theta,
                layout,
                act_code,
                out_code,
                loss_code,
                parallel,
            )
        batch_loss = loss_sum / sw_sum + 0.5 * alpha * sqnorm / sw_sum
        accumulated += batch_loss * nb
        if solver == SOLVER_ADAM:
            t += 1
            lr_t = (
                hp[H_LR] * np.sqrt(1.0 - hp[H_BETA_2] ** t) / (1.0 - hp[H_BETA_1] ** t)
            )
            sqnorm = adam_step(
                theta,
                opt[0],
                opt[1],
                buf.partial,
                buf.G,
                n_parts,
                n_coef,
                alpha,
                sw_sum,
                lr_t,
                hp[H_BETA_1],
                hp[H_BETA_2],
                hp[H_EPSILON],
                step_parallel,
            )
        else:
            sqnorm = sgd_step(
                theta,
                opt[0],
                buf.partial,
                buf.G,
                n_parts,
                n_coef,
                alpha,
                sw_sum,
                hp[H_LR],
                hp[H_MOMENTUM],
                hp[H_NESTEROV] != 0.0,
                step_parallel,
            )
        if not (np.isfinite(batch_loss) and np.isfinite(sqnorm)):
            diverged = start // batch_size
            break
    return accumulated, t, sqnorm, diverged


@composite_kernel
def predict_blocks(
    out, acts, xb, work, X, rows, block, theta, layout, act_code, out_code, parallel
):
    """out = network(X[rows]), processed in blocks of ``block`` rows (the rows the
    work buffers were sized for).

    X is dense (n_samples, n_features), possibly read-only, each block copied
    into xb; or a CSRMatrix, read in place."""
    n = rows.shape[0]
    for start in range(0, n, block):
        stop = min(start + block, n)
        nb = stop - start
        Xb = batch_input(xb, X, rows, start, stop)
        P = forward(acts, work, Xb, theta, layout, act_code, out_code, parallel)
        for r in range(nb):
            for j in range(P.shape[1]):
                out[start + r, j] = P[r, j]
