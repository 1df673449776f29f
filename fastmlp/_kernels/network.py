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

Parallel structure, and why it is this one: every kernel below ``train_epochs`` is
serial. A batch runs as two phases of tasks, each phase one parallel region:
  phase 0  one task per row chunk of the batch: gather, forward, loss, backward
           into the chunk's own buffers (G[c], acts[c], deltas[c], work[c]);
  phase 1  one task per CHUNK-element slice of theta: add the chunks' gradients
           in chunk order and apply the solver's step (optimizers.step_chunk).
Both phases go through the *same* ``prange`` loop (``run_task`` with a phase
code), so the whole training loop has one parfor body: Numba compiles each
parfor body as a separate function, with everything it calls, and that was most
of the cold-start time when every GEMM, activation and step had its own. The
chunking depends on the batch size only, so the weights are bit-identical for
any thread count and for the serial branch (a process that must not enter a
parallel region takes it; see _threads.parallel_allowed).

Early stopping's validation outputs are PHASE_VALIDATE tasks of the same loop
after each epoch's batches. The same kernel also predicts (codes[C_MODE] =
MODE_PREDICT: PHASE_PREDICT tasks only, each a block of rows whose outputs go
to ``Y``) and computes L-BFGS's full-batch gradient (solver SOLVER_NONE: phase 1
only sums the chunks' gradients into G[0]), so a fit, a predict and an L-BFGS
fit of one dtype and input kind share one compiled kernel. Nothing here
allocates: every buffer is passed in, sized once per fit (_solver.Workspace).
"""

import numpy as np
from numba import prange

from .._jit import inline_kernel, kernel, parallel_kernel
from .activations import activation_backward, bias_activation_forward
from .epochs import (
    F_DIVERGED_BATCH,
    F_DONE,
    F_EPOCHS,
    F_MT_POS,
    F_SQNORM,
    F_STATUS,
    F_T,
    SCORE_TRAINING_LOSS,
    ST_DIVERGED,
    ST_RUNNING,
    end_epoch,
    validation_score,
)
from .gemm import matmul_nn, matmul_nt, matmul_tn
from .indirect import call_kernel
from .losses import loss_forward_backward
from .optimizers import (
    H_ALPHA,
    H_BETA_1,
    H_BETA_2,
    H_LR,
    SOLVER_ADAM,
    SOLVER_NONE,
    n_chunks_jit,
    squared_norm,
    step_chunk,
)
from .reduce import column_sum
from .shuffle import legacy_shuffle
from .sparse import (
    batch_input,
    batch_rows,
    input_forward,
    input_weight_grad,
)
from .views import view1d, view2d

W_OFF, B_OFF, FAN_IN, FAN_OUT, A_OFF = 0, 1, 2, 3, 4

# codes[] entries: activations, loss, solver; whether phase 0 (row chunks) and
# phase 1 (the step) run their tasks in parallel; rows per chunk; the mode.
C_ACT, C_OUT, C_LOSS, C_SOLVER, C_PARALLEL, C_STEP_PARALLEL, C_CHUNK_ROWS = range(7)
# The epoch loop's codes (epochs.py): the learning-rate schedule, what the
# stopping rule watches, whether each epoch shuffles.
C_MODE, C_SCHEDULE, C_SCORING, C_SHUFFLE = 7, 8, 9, 10
N_CODES = 11
MODE_TRAIN, MODE_PREDICT = 0, 1
PHASE_CHUNKS, PHASE_STEP, PHASE_PROBE, PHASE_PREDICT, PHASE_VALIDATE = range(5)

# Rows of the float64 ``sums`` buffer: the step's per-slice squared norms, and
# each row chunk's weighted loss sum and weight sum.
S_PARTIAL, S_LOSS, S_WEIGHT = 0, 1, 2


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


@kernel
def forward(acts, work, Xb, theta, layout, act_code, out_code):
    """Forward pass of the batch Xb (dense (nb, n_features) or CSRRows); layer
    outputs written into ``acts``.

    Returns the (nb, n_outputs) view of the output layer's activations."""
    nb = batch_rows(Xb)
    n_layers = layout.shape[0]
    # np.bool_, not a literal False: a literal would compile its own copy of matmul_nn.
    overwrite = np.bool_(False)
    W, b = weights(theta, layout, 0)
    H = layer_view(acts, layout, 0, nb)  # (nb, fan_out)
    input_forward(H, Xb, W, work)
    bias_activation_forward(H, b, out_code if n_layers == 1 else act_code)
    for layer in range(1, n_layers):
        W, b = weights(theta, layout, layer)
        U = layer_view(acts, layout, layer, nb)  # (nb, fan_out)
        matmul_nn(U, H, W, overwrite, work)
        code = out_code if layer == n_layers - 1 else act_code
        bias_activation_forward(U, b, code)
        H = U
    return H


@kernel
def forward_backward(
    graw, acts, deltas, work, Xb, Yb, swb, theta, layout, act_code, out_code,
    loss_code,
):  # fmt: skip
    """Forward and backward pass of one batch; raw gradient sums into ``graw``.

    Xb dense (nb, n_features) or CSRRows, Yb (nb, n_outputs), swb (nb,). Returns
    the weighted sum of the per-row losses (float64), without the L2 term."""
    nb = Yb.shape[0]
    last = layout.shape[0] - 1
    P = forward(acts, work, Xb, theta, layout, act_code, out_code)
    dU = layer_view(deltas, layout, last, nb)
    loss_sum = loss_forward_backward(dU, P, Yb, swb, loss_code)
    for layer in range(last, 0, -1):
        dU = layer_view(deltas, layout, layer, nb)  # (nb, fan_out)
        H = layer_view(acts, layout, layer - 1, nb)  # (nb, fan_in)
        dW, db = weights(graw, layout, layer)
        matmul_tn(dW, H, dU, work)  # H.T @ dU
        column_sum(db, dU)
        W, _ = weights(theta, layout, layer)
        dH = layer_view(deltas, layout, layer - 1, nb)  # (nb, fan_in)
        matmul_nt(dH, dU, W, work)  # dU @ W.T
        activation_backward(dH, H, act_code)
    dU = layer_view(deltas, layout, 0, nb)
    dW, db = weights(graw, layout, 0)
    input_weight_grad(dW, Xb, dU, work)  # X.T @ dU
    column_sum(db, dU)
    return loss_sum


@inline_kernel
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


@inline_kernel
def predict_chunk(acts, work, xb, X, Y, idx, start, r0, r1, theta, layout, codes):
    """Rows idx[start + r0:start + r1] of X forward; outputs to Y[idx[row]]."""
    Xc = batch_input(xb[r0:r1], X, idx, start + r0, start + r1)
    P = forward(acts, work, Xc, theta, layout, codes[C_ACT], codes[C_OUT])
    for r in range(r1 - r0):
        i = idx[start + r0 + r]
        for j in range(P.shape[1]):
            Y[i, j] = P[r, j]


@kernel
def run_task(
    phase, task, theta, opt, G, acts, deltas, work, sums, xb, yb, swb, X, Y, sw,
    idx, X_val, P_val, order_val, start, stop, layout, codes, hp, sw_sum, lr,
):  # fmt: skip
    """One task of a batch idx[start:stop] (see the module docstring).

    PHASE_CHUNKS: row chunk ``task`` (rows of codes[C_CHUNK_ROWS]) is gathered
    into its rows of xb, yb, swb and run forward and backward into G[task],
    acts[task], deltas[task], work[task]; its weighted loss and weight sums go
    to sums[S_LOSS, task], sums[S_WEIGHT, task].
    PHASE_PREDICT: row chunk ``task`` is gathered and run forward only, its
    outputs written to Y[idx[row]]; PHASE_VALIDATE: the same with X_val,
    P_val, order_val (early stopping's validation outputs).
    PHASE_STEP: slice ``task`` of theta is updated (optimizers.step_chunk) and
    its squared norm written to sums[S_PARTIAL, task].
    PHASE_PROBE: nothing (train_epochs checks that it can call this kernel).

    train_epochs calls this kernel through its address (indirect.py): the
    argument types must be the ones _solver.task_kernel compiles it for."""
    if phase == PHASE_PROBE:
        return
    chunk_rows = codes[C_CHUNK_ROWS]
    nb = stop - start
    if phase == PHASE_STEP:
        n_parts = (nb + chunk_rows - 1) // chunk_rows
        sums[S_PARTIAL, task] = step_chunk(
            theta, opt, G, n_parts, task, layout[0, B_OFF], codes[C_SOLVER], hp,
            sw_sum, lr,
        )  # fmt: skip
        return
    r0 = task * chunk_rows
    r1 = min(r0 + chunk_rows, nb)
    # Scratch (activations, deltas, GEMM work) per chunk when chunks run in
    # parallel; run serially, every chunk reuses the first one's, which stays in
    # cache. Only G keeps a slot per chunk (the step adds them in chunk order).
    slot = task if codes[C_PARALLEL] != 0 else 0
    if phase == PHASE_PREDICT:
        predict_chunk(
            acts[slot], work[slot], xb, X, Y, idx, start, r0, r1, theta, layout, codes
        )
        return
    if phase == PHASE_VALIDATE:
        predict_chunk(
            acts[slot], work[slot], xb, X_val, P_val, order_val, start, r0, r1,
            theta, layout, codes,
        )  # fmt: skip
        return
    Xc = batch_input(xb[r0:r1], X, idx, start + r0, start + r1)
    sums[S_WEIGHT, task] = gather_targets(
        yb[r0:r1], swb[r0:r1], Y, sw, idx, start + r0, start + r1
    )
    sums[S_LOSS, task] = forward_backward(
        G[task], acts[slot], deltas[slot], work[slot], Xc, yb[r0:r1], swb[r0:r1],
        theta, layout, codes[C_ACT], codes[C_OUT], codes[C_LOSS],
    )  # fmt: skip


@parallel_kernel
def train_epochs(
    theta, opt, G, acts, deltas, work, sums, xb, yb, swb, X, Y, sw, order, layout,
    codes, hp, batch_size, fit, curve, mt_key, best, X_val, Y_val, sw_val, P_val,
    order_val, task_addr, task_key,
):  # fmt: skip
    """Up to fit[F_EPOCHS] epochs of mini-batch training, with scikit-learn's
    per-epoch bookkeeping (epochs.py), entirely in compiled code.

    Each epoch first shuffles ``order`` in place (codes[C_SHUFFLE]; drawn from
    the RandomState's MT19937 state ``mt_key`` at position fit[F_MT_POS], both
    advanced in place, see shuffle.py),
    then trains on the batches order[0:B], order[B:2B], ...: phase 0 (row
    chunks: gather, forward, loss, backward), phase 1 (the step), each a set of
    tasks run in parallel when codes[C_PARALLEL] / codes[C_STEP_PARALLEL] say so
    and there is more than one task (see the module docstring). With early
    stopping (codes[C_SCORING] not SCORE_TRAINING_LOSS) the network then
    predicts X_val[order_val] into P_val, in the same tasks, and scores it
    against Y_val, sw_val; the best weights are copied to ``best``. Then
    epochs.end_epoch: the loss curve, the no-improvement counter, the
    learning-rate schedule (hp[H_LR] is the current learning rate), stopping.

    theta (n_params,) updated in place; opt (2, n_params): SGD velocity in
    opt[0], Adam m, v in opt[0], opt[1]; the buffers as in _solver.Workspace;
    ``fit`` the float64 F_* state (Adam's t, ||coefs||^2 (negative: compute it
    first), counters, ...), ``curve`` (>= fit[F_EPOCHS], N_CURVE) a row per
    epoch. A batch's loss is scikit-learn's batch objective: weighted mean loss
    + 0.5 * alpha * sqnorm / sw_sum.

    A call ends (fit[F_STATUS]) after fit[F_EPOCHS] epochs (ST_RUNNING), at
    max_iter or a stop (ST_MAX_ITER, ST_STOPPED), or when a batch's
    loss or the coefficients' squared norm after its step is not finite
    (ST_DIVERGED, the batch in fit[F_DIVERGED_BATCH]: without early stopping
    right after that batch, theta and opt then garbage for the caller to
    discard; with it after the epoch is scored and recorded, as scikit-learn
    does). fit[F_DONE] epochs were completed.

    Two one-pass modes share this kernel (and its compiled code): solver
    SOLVER_NONE (L-BFGS's full-batch gradient: the chunks' raw gradients summed
    into G[0], their losses and weights left in sums) and codes[C_MODE] =
    MODE_PREDICT (X's outputs written to Y[order], no training).

    Tasks are ``run_task`` calls through its address ``task_addr`` (with
    ``task_key`` the checksum of its argument types, see indirect.py): its code
    is compiled once, not again inside this kernel and its parfor body. Returns
    -2 and runs nothing if the key does not match the call sites' types, else 0."""
    zero = np.intp(0)
    if not call_kernel(
        task_addr, task_key,
        (np.intp(PHASE_PROBE), zero, theta, opt, G, acts, deltas, work, sums, xb,
         yb, swb, X, Y, sw, order, X_val, P_val, order_val, zero, zero, layout,
         codes, hp, 0.0, 0.0),
    ):  # fmt: skip
        return -2
    n_coef = layout[0, B_OFF]
    sqnorm = fit[F_SQNORM]
    if sqnorm < 0.0:
        sqnorm = squared_norm(theta[:n_coef])
    t = np.int64(fit[F_T])
    n = order.shape[0]
    chunk_rows = codes[C_CHUNK_ROWS]
    predict = codes[C_MODE] == MODE_PREDICT
    one_pass = predict or codes[C_SOLVER] == SOLVER_NONE
    scoring = codes[C_SCORING]
    validate = scoring != SCORE_TRAINING_LOSS and not one_pass
    n_batches = (n + batch_size - 1) // batch_size
    n_val = order_val.shape[0]
    n_val_batches = (n_val + batch_size - 1) // batch_size if validate else 0
    n_slices = n_chunks_jit(theta.shape[0])
    alpha = hp[H_ALPHA]
    pos = np.int64(fit[F_MT_POS])
    fit[F_STATUS] = ST_RUNNING
    fit[F_DONE] = 0.0
    n_epochs = 1 if one_pass else np.int64(fit[F_EPOCHS])
    for epoch in range(n_epochs):
        if codes[C_SHUFFLE] != 0 and not one_pass:
            pos = legacy_shuffle(order, mt_key, pos)
        accumulated = 0.0
        diverged = -1
        b = 0
        while b < n_batches + n_val_batches:
            train = b < n_batches
            if train:
                start = b * batch_size
                stop = min(start + batch_size, n)
            else:
                start = (b - n_batches) * batch_size
                stop = min(start + batch_size, n_val)
            nb = stop - start
            n_parts = (nb + chunk_rows - 1) // chunk_rows
            n_phases = 2 if train and not predict else 1
            sw_sum = 0.0
            lr = 0.0
            batch_loss = 0.0
            for phase_i in range(n_phases):
                if n_phases == 1:
                    phase = PHASE_PREDICT if train else PHASE_VALIDATE
                    n_tasks = n_parts
                    parallel = codes[C_PARALLEL] != 0
                elif phase_i == 0:
                    phase = PHASE_CHUNKS
                    n_tasks = n_parts
                    parallel = codes[C_PARALLEL] != 0
                else:
                    phase = PHASE_STEP
                    loss_sum = 0.0
                    for c in range(n_parts):
                        loss_sum += sums[S_LOSS, c]
                        sw_sum += sums[S_WEIGHT, c]
                    batch_loss = loss_sum / sw_sum + 0.5 * alpha * sqnorm / sw_sum
                    accumulated += batch_loss * nb
                    if codes[C_SOLVER] == SOLVER_ADAM:
                        t += 1
                        lr = (
                            hp[H_LR]
                            * np.sqrt(1.0 - hp[H_BETA_2] ** t)
                            / (1.0 - hp[H_BETA_1] ** t)
                        )
                    else:
                        lr = hp[H_LR]
                    n_tasks = n_slices
                    parallel = codes[C_STEP_PARALLEL] != 0
                # The one parfor of the training loop (see the module docstring).
                if parallel and n_tasks > 1:
                    for task in prange(n_tasks):
                        call_kernel(
                            task_addr, task_key,
                            (np.intp(phase), np.intp(task), theta, opt, G, acts,
                             deltas, work, sums, xb, yb, swb, X, Y, sw, order,
                             X_val, P_val, order_val, start, stop, layout, codes,
                             hp, sw_sum, lr),
                        )  # fmt: skip
                else:
                    for task in range(n_tasks):
                        call_kernel(
                            task_addr, task_key,
                            (np.intp(phase), np.intp(task), theta, opt, G, acts,
                             deltas, work, sums, xb, yb, swb, X, Y, sw, order,
                             X_val, P_val, order_val, start, stop, layout, codes,
                             hp, sw_sum, lr),
                        )  # fmt: skip
            b += 1
            if n_phases == 2:
                sqnorm = 0.0
                for c in range(n_slices):
                    sqnorm += sums[S_PARTIAL, c]
                if not (np.isfinite(batch_loss) and np.isfinite(sqnorm)):
                    diverged = start // batch_size
                    fit[F_DIVERGED_BATCH] = diverged
                    if not validate:
                        fit[F_STATUS] = ST_DIVERGED
                        break
                    b = n_batches  # score the diverged weights, then stop
        if one_pass or (diverged >= 0 and not validate):
            break
        score = np.nan
        if validate:
            score = validation_score(P_val, Y_val, sw_val, scoring)
        lr_next, improved, stop_now = end_epoch(
            fit, curve, epoch, accumulated, n, score, hp[H_LR], diverged >= 0,
            scoring, codes[C_SCHEDULE], codes[C_SOLVER] == SOLVER_ADAM,
        )  # fmt: skip
        if improved:
            for k in range(theta.shape[0]):
                best[k] = theta[k]
        hp[H_LR] = lr_next
        fit[F_DONE] = epoch + 1.0
        if stop_now:
            break
    fit[F_T] = t
    fit[F_SQNORM] = sqnorm
    fit[F_MT_POS] = pos
    return 0
