"""The network: forward, backward and whole-epoch training, composed from kernels.

Parameters live in one flat buffer ``theta`` (all coefficient matrices, then all
intercepts, scikit-learn's ``_pack`` order), placed as ``layout`` says (layout.py).

Maths (per mini-batch of nb rows, layers l = 0 .. L-1):
  forward   U_l = H_{l-1} W_l + b_l,   H_l = f_l(U_l),   H_{-1} = X_batch
  output    dU_{L-1} = (P - Y) * sw    (canonical link, see losses.py)
  backward  dW_l = H_{l-1}^T dU_l,  db_l = 1^T dU_l,
            dU_{l-1} = (dU_l W_l^T) * f'_{l-1}(H_{l-1})
The raw sums dW_l, db_l go to ``graw``; the optimizer step applies alpha and 1/sw_sum.

Parallel structure, and why it is this one: every kernel below ``run_task`` is
serial. A batch runs as two phases of tasks:
  phase 0  one task per row chunk of the batch: gather, forward, loss, backward
           into the chunk's own buffers (G[c], acts[c], deltas[c], work[c]);
  phase 1  one task per CHUNK-element slice of theta: add the chunks' gradients
           in chunk order and apply the solver's step (optimizers.step_chunk).
When more threads may take part than a batch has chunks, phase 0 runs as layer
phases instead (loop.py): each layer's products divided into column tiles of
every chunk, so a 4-chunk batch of a 512-wide net keeps 16 threads busy. The
tiles compute each element exactly as the whole chunk does.
``run_task`` runs a phase's tasks and, for whoever completes a phase, the
bookkeeping up to the next (loop.py). One call of ``train_epochs`` is one
parallel region at most: a team of threads that takes the tasks of split
phases from a shared counter (team.py), with no fork/join per batch and no
thread waiting for a given other one. All of run_task is compiled once, on its
own, and called by address (indirect.py): Numba compiles each parfor body as a
separate function, with everything it calls, and that was most of the
cold-start time when every GEMM, activation and step had its own. The
chunking depends on the batch size only, so the weights are bit-identical for
any team size and for a team of one (a process that must not enter a parallel
region has one; see _threads.parallel_allowed).

Early stopping's validation outputs are PHASE_VALIDATE tasks after each
epoch's batches. The same kernel also predicts (codes[C_MODE] = MODE_PREDICT:
PHASE_PREDICT tasks only, each a block of rows whose outputs go to ``Y``) and
computes L-BFGS's full-batch gradient (solver SOLVER_NONE: phase 1 only sums
the chunks' gradients into G[0]), so a fit, a predict and an L-BFGS fit of one
dtype and input kind share one compiled kernel. Nothing here allocates: every
buffer is passed in, sized once per fit (_solver.Workspace).
"""

import numpy as np
from numba import prange

from .._jit import inline_kernel, kernel, parallel_kernel
from .activations import (
    ACT_ELU,
    activation_backward,
    bias_activation_forward,
)
from .epochs import F_DECAY_KEEP, F_STEP_LR, F_SW_SUM
from .extended import X_BACKWARD, X_PREDICT, X_TRAIN
from .gemm import matmul_nn, matmul_nt, matmul_tn
from .indirect import call_kernel

# the layout's columns and views are part of this module's API
from .layout import (  # noqa: F401, E402
    A_OFF,
    ACT,
    B_OFF,
    D_OFF,
    DROP,
    FAN_IN,
    FAN_OUT,
    W_OFF,
    X_ADDR,
    X_KEY,
    layer_view,
    saved_derivative,
    weights,
)
from .loop import (  # noqa: F401  (the codes are part of this module's API)
    C_ALWAYS_LAYERED,
    C_CHUNK_ROWS,
    C_DROPOUT_SEED,  # noqa: F401  (part of this module's API)
    C_EARLY_STOP,
    C_LOSS,
    C_LR_SHAPE,
    C_MODE,
    C_OUT,
    C_PARALLEL,
    C_SCHEDULE,
    C_SCORING,
    C_SHUFFLE,
    C_SOLVER,
    C_STEP_PARALLEL,
    C_TEAM,
    C_TILE_COLS,
    C_TILE_WORK,
    L_DROP_KEY,
    L_LAYER,
    L_N_PARTS,
    L_SCRATCH,
    L_START,
    L_STOP,
    L_TILE_SETS,
    MODE_PREDICT,
    MODE_TRAIN,
    N_CODES,
    PHASE_BACKWARD,
    PHASE_BEGIN,
    PHASE_CHUNKS,
    PHASE_DONE,
    PHASE_FORWARD,
    PHASE_GATHER,
    PHASE_LOSS,
    PHASE_NORM,
    PHASE_PREDICT,
    PHASE_PROBE,
    PHASE_STEP,
    PHASE_VALIDATE,
    S_LOSS,
    S_PARTIAL,
    S_WEIGHT,
    advance,
)
from .losses import loss_forward_backward
from .optimizers import H_LOSS_PARAM, SOLVER_NORM, step_chunk
from .reduce import column_sum
from .sparse import (
    batch_input,
    batch_rows,
    gathered_input,
    input_forward,
    input_weight_grad,
)
from .team import L_PHASE, L_TASKS, L_UNITS, publish, team_member
from .tuner import T_CAP, T_END
from .views import view1d


@inline_kernel
def forward(acts, work, Xb, theta, layout, out_code, rows, key):
    """Forward pass of the batch Xb (dense (nb, n_features) or CSRRows); layer
    outputs written into ``acts``: each layer as one whole tile (forward_tile),
    then the output activation. ``rows``, ``key``: as forward_tile (key -1:
    prediction).

    Returns the (nb, n_outputs) view of the output layer's activations."""
    nb = batch_rows(Xb)
    last = layout.shape[0] - 1
    zero = np.intp(0)
    for layer in range(last + 1):
        forward_tile(acts, work, Xb, theta, layout, layer, zero, layout[layer, FAN_OUT],
                     rows, key)  # fmt: skip
    _, b = weights(theta, layout, last)
    P = layer_view(acts, layout, last, nb)
    bias_activation_forward(P, b, out_code, zero, layout[last, FAN_OUT])
    return P


# A tile width no layer reaches: backward_tile's tile 0 is then a layer's whole
# weight gradient and tile 1 its whole input delta.
WHOLE_LAYER = 1 << 40


@inline_kernel
def forward_backward(
    graw, acts, deltas, work, Xb, Yb, swb, rows, key, theta, layout, out_code,
    loss_code, loss_param,
):  # fmt: skip
    """Forward and backward pass of one batch; raw gradient sums into ``graw``.

    Xb dense (nb, n_features) or CSRRows, Yb (nb, n_outputs), swb (nb,); rows
    (nb,) their indices in X and ``key`` the epoch's dropout key. Returns
    the weighted sum of the per-row losses (float64), without the L2 term.

    Composed of the layer phases' own kernels, each layer one whole tile, so
    whole chunks and layer phases run the same compiled code (and Numba
    compiles it once, not again as a fused pass)."""
    last = layout.shape[0] - 1
    zero = np.intp(0)
    whole = np.intp(WHOLE_LAYER)
    for layer in range(last + 1):
        forward_tile(acts, work, Xb, theta, layout, layer, zero, layout[layer, FAN_OUT],
                     rows, key)  # fmt: skip
    loss_sum = loss_chunk(deltas, acts, Yb, swb, theta, layout, out_code, loss_code,
                          loss_param)  # fmt: skip
    for layer in range(last, -1, -1):
        # the weight and bias gradient, then (below the first layer) the delta
        backward_tile(graw, deltas, acts, work, Xb, theta, layout, layer, zero, whole)
        if layer > 0:
            backward_tile(graw, deltas, acts, work, Xb, theta, layout, layer,
                          np.intp(1), whole)  # fmt: skip
    return loss_sum


@kernel
def forward_tile(acts, work, Xb, theta, layout, layer, j0, j1, rows, key):
    """Columns j0..j1-1 of layer ``layer``'s outputs for the chunk Xb, whose
    earlier layers' outputs are in ``acts``; a hidden layer's activation
    (layout[layer, ACT]) applied (the output layer's waits for the chunk's
    whole rows, loss_chunk). Each element as ``forward`` computes it.

    Training (``key`` >= 0, the epoch's dropout.epoch_key) also saves the
    layer's derivative where the layout has a block for it, and applies its
    dropout to the chunk's rows (``rows``: their indices in X); prediction
    (``key`` -1) computes the activation only."""
    nb = batch_rows(Xb)
    W, b = weights(theta, layout, layer)
    U = layer_view(acts, layout, layer, nb)
    if layer == 0:
        input_forward(U, Xb, W, work, j0, j1)
    else:
        H = layer_view(acts, layout, layer - 1, nb)
        matmul_nn(U, H, W, np.bool_(False), work, j0, j1)
    if layer < layout.shape[0] - 1:
        code = layout[layer, ACT]
        train = key >= 0 and layout[layer, D_OFF] >= 0
        if layout[layer, X_ADDR] != 0 and (train or code >= ACT_ELU):
            # elu .. softplus, or dropout: extended.py's kernel, by its address
            D = saved_derivative(acts, layout, layer, nb) if train else U
            if not call_kernel(
                layout[layer, X_ADDR], layout[layer, X_KEY],
                (U, D, b, rows, code, np.int64(j0), np.int64(j1), X_TRAIN if train else X_PREDICT,
                 key, np.int64(layer), layout[layer, DROP]), (),
            ):  # fmt: skip
                U[0, j0] = np.nan  # a table built for other types: never silent
        else:
            bias_activation_forward(U, b, code, j0, j1)


@inline_kernel
def loss_chunk(deltas, acts, Yb, swb, theta, layout, out_code, loss_code, loss_param):
    """The chunk's output activation, loss and output delta, after its output
    layer's tiles (forward_tile); the weighted loss sum, as forward_backward."""
    nb = Yb.shape[0]
    last = layout.shape[0] - 1
    _, b = weights(theta, layout, last)
    P = layer_view(acts, layout, last, nb)
    bias_activation_forward(P, b, out_code, np.intp(0), layout[last, FAN_OUT])
    dU = layer_view(deltas, layout, last, nb)
    return loss_forward_backward(dU, P, Yb, swb, loss_code, loss_param)


@kernel
def backward_tile(graw, deltas, acts, work, Xb, theta, layout, layer, tile, tile_cols):
    """Tile ``tile`` of layer ``layer``'s backward pass for the chunk Xb: below
    the layer's fan-out tile count, columns of its weight and bias gradient
    (into graw); above it, columns of the input delta (into deltas, the
    activation's derivative applied: the saved one where the layout has it,
    else from the layer's output). Each element as forward_backward."""
    nb = batch_rows(Xb)
    dU = layer_view(deltas, layout, layer, nb)
    fan_out = layout[layer, FAN_OUT]
    n_out_tiles = (fan_out + tile_cols - 1) // tile_cols
    if tile < n_out_tiles:
        j0 = tile * tile_cols
        j1 = min(j0 + tile_cols, fan_out)
        dW, db = weights(graw, layout, layer)
        if layer == 0:
            input_weight_grad(dW, Xb, dU, work, j0, j1)
        else:
            H = layer_view(acts, layout, layer - 1, nb)
            matmul_tn(dW, H, dU, work, j0, j1)
        column_sum(db, dU, j0, j1)
    else:
        j0 = (tile - n_out_tiles) * tile_cols
        j1 = min(j0 + tile_cols, layout[layer, FAN_IN])
        W, _ = weights(theta, layout, layer)
        H = layer_view(acts, layout, layer - 1, nb)
        dH = layer_view(deltas, layout, layer - 1, nb)
        matmul_nt(dH, dU, W, work, j0, j1)
        if layout[layer - 1, D_OFF] >= 0:  # dH *= the saved f', by extended.py
            D = saved_derivative(acts, layout, layer - 1, nb)
            if not call_kernel(
                layout[layer - 1, X_ADDR],
                layout[layer - 1, X_KEY],
                (
                    dH,
                    D,
                    view1d(D, 0, 1),
                    view1d(layout, 0, 1),
                    np.int64(0),
                    np.int64(j0),
                    np.int64(j1),
                    np.int64(X_BACKWARD),
                    np.int64(0),
                    np.int64(0),
                    np.int64(0),
                ),
                (),
            ):  # fmt: skip  (b, rows, code unused)
                dH[0, j0] = np.nan  # a table built for other types: never silent
        else:
            activation_backward(dH, H, layout[layer - 1, ACT], j0, j1)


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
    rows = idx[start + r0 : start + r1]
    P = forward(acts, work, Xc, theta, layout, codes[C_OUT], rows, np.int64(-1))
    for r in range(r1 - r0):
        i = idx[start + r0 + r]
        for j in range(P.shape[1]):
            Y[i, j] = P[r, j]


@kernel
def run_task(
    member, first, end, lead, theta, opt, G, acts, deltas, work, sums, xb, yb, swb,
    ctl, X, Y, sw, order, layout, codes, hp, batch_size, fit, curve, mt_key, best,
    X_val, Y_val, sw_val, P_val, order_val,
):  # fmt: skip
    """Tasks first .. end - 1 of the phase in ctl[L_PHASE]; then, if
    ``lead`` (the caller completed the phase), the loop's bookkeeping up to the
    next phase (loop.advance), running every phase that is not split among the
    team itself, until one that is (or PHASE_DONE) is left in ctl for the team
    to publish. PHASE_PROBE: nothing (train_epochs checks that it can call
    this kernel). ``member`` is the caller's place in the team.

    The tasks, for the batch order[start:stop] in ctl: PHASE_CHUNKS, row chunk
    ``task`` (rows of codes[C_CHUNK_ROWS]) gathered into its rows of xb, yb,
    swb and run forward and backward into G[task], its weighted loss and
    weight sums to sums[S_LOSS, task], sums[S_WEIGHT, task]; PHASE_PREDICT,
    the chunk forward only, its outputs to Y[order[row]]; PHASE_VALIDATE, the
    same with X_val, P_val, order_val (early stopping's validation outputs);
    PHASE_STEP, slice ``task`` of theta updated, its squared norm to
    sums[S_PARTIAL, task]; PHASE_NORM, slice ``task`` of the gradient's
    squared norm to sums[S_PARTIAL, task] (gradient clipping).

    Every floating-point operation of training runs here, in this one compiled
    function, whichever thread calls it: that is what makes the weights
    bit-identical for any team size. train_epochs and the team call it through
    its address (indirect.py): the argument types must be the ones
    _solver.task_kernel compiles it for."""
    if ctl[L_PHASE] == PHASE_PROBE:
        return
    chunk_rows = codes[C_CHUNK_ROWS]
    while True:
        phase = ctl[L_PHASE]
        start = ctl[L_START]
        nb = ctl[L_STOP] - start
        key = ctl[L_DROP_KEY]  # the epoch's dropout key (dropout.py)
        # Scratch (activations, deltas, GEMM work) per member, so it stays in
        # the member's cache whichever chunks it runs (set_phase lets only
        # members with a set of their own take part in split phases); only G
        # keeps a slot per chunk (the step adds them in chunk order).
        slot = member if member < acts.shape[0] else 0
        # The tasks are written out here rather than in an inlined function:
        # each array argument of an inlined call costs a reference count
        # increment and decrement (atomic), ~0.6 us per W4 step in all.
        for task in range(first, end):
            r0 = task * chunk_rows
            r1 = min(r0 + chunk_rows, nb)
            if phase == PHASE_STEP or phase == PHASE_NORM:
                # slice ``task`` of theta (optimizers.step_chunk); its ||.||^2;
                # or of the gradient's ||.||^2 (clipping): one call site
                solver = codes[C_SOLVER] if phase == PHASE_STEP else SOLVER_NORM
                sums[S_PARTIAL, task] = step_chunk(
                    theta, opt, G, ctl[L_N_PARTS], task, layout[0, B_OFF], solver,
                    hp, fit[F_SW_SUM], fit[F_STEP_LR], fit[F_DECAY_KEEP],
                )  # fmt: skip
            elif phase == PHASE_PREDICT or phase == PHASE_VALIDATE:
                # rows order[start + r0:start + r1] forward, outputs to Y; or the
                # same with early stopping's X_val, P_val, order_val (of the same
                # types, _solver.no_validation): one call site, one inlined copy
                src, dst, idx = X, Y, order
                if phase == PHASE_VALIDATE:
                    src, dst, idx = X_val, P_val, order_val
                predict_chunk(
                    acts[slot], work[slot], xb, src, dst, idx, start, r0, r1, theta,
                    layout, codes,
                )  # fmt: skip
            elif phase == PHASE_LOSS:  # chunk ``task``'s output, loss, delta
                sums[S_LOSS, task] = loss_chunk(
                    deltas[task], acts[task], yb[r0:r1], swb[r0:r1], theta, layout,
                    codes[C_OUT], codes[C_LOSS], hp[H_LOSS_PARAM],
                )  # fmt: skip
            elif phase == PHASE_FORWARD or phase == PHASE_BACKWARD:
                # (tile, chunk) of layer ctl[L_LAYER], in the chunk's own
                # buffers; the member's tile scratch at its place in ``work``
                n_parts = ctl[L_N_PARTS]
                tile = task // n_parts
                c = task - tile * n_parts
                c0 = c * chunk_rows
                c1 = min(c0 + chunk_rows, nb)
                Xc = gathered_input(xb[c0:c1], X, order, start + c0, start + c1)
                tw = view1d(work, member * codes[C_TILE_WORK], codes[C_TILE_WORK])
                layer = ctl[L_LAYER]
                cols = codes[C_TILE_COLS]
                if phase == PHASE_FORWARD:
                    j0 = tile * cols
                    j1 = min(j0 + cols, layout[layer, FAN_OUT])
                    forward_tile(
                        acts[c], tw, Xc, theta, layout, layer, j0, j1,
                        order[start + c0 : start + c1], key,
                    )  # fmt: skip
                else:
                    backward_tile(
                        G[c], deltas[c], acts[c], tw, Xc, theta, layout, layer, tile,
                        cols,
                    )  # fmt: skip
            else:  # PHASE_GATHER: chunk ``task``'s rows and targets gathered;
                # PHASE_CHUNKS: the same, then forward, loss, backward into G[task]
                Xc = batch_input(xb[r0:r1], X, order, start + r0, start + r1)
                sums[S_WEIGHT, task] = gather_targets(
                    yb[r0:r1], swb[r0:r1], Y, sw, order, start + r0, start + r1
                )
                if phase == PHASE_GATHER:
                    continue
                sums[S_LOSS, task] = forward_backward(
                    G[task], acts[slot], deltas[slot], work[slot], Xc, yb[r0:r1],
                    swb[r0:r1], order[start + r0 : start + r1], key, theta, layout,
                    codes[C_OUT], codes[C_LOSS], hp[H_LOSS_PARAM],
                )  # fmt: skip
        if lead == 0:
            return
        advance(
            theta, sums, order, layout, codes, hp, batch_size, fit, curve, mt_key,
            best, Y_val, sw_val, P_val, order_val, ctl,
        )  # fmt: skip
        if ctl[L_PHASE] == PHASE_DONE or ctl[L_UNITS] > 1:
            return
        first = 0
        end = ctl[L_TASKS]


@parallel_kernel
def train_epochs(
    theta, opt, G, acts, deltas, work, sums, xb, yb, swb, ctl, X, Y, sw, order,
    layout, codes, hp, batch_size, fit, curve, mt_key, best, X_val, Y_val, sw_val,
    P_val, order_val, task_addr, task_key,
):  # fmt: skip
    """Up to fit[F_EPOCHS] epochs of mini-batch training, with scikit-learn's
    per-epoch bookkeeping (epochs.py, loop.py), entirely in compiled code.

    Each epoch first shuffles ``order`` in place (codes[C_SHUFFLE]; drawn from
    the RandomState's MT19937 state ``mt_key`` at position fit[F_MT_POS], both
    advanced in place, see shuffle.py), then trains on the batches
    order[0:B], order[B:2B], ...: a phase of row chunks (gather, forward, loss,
    backward), then the step. With early stopping (codes[C_SCORING] not
    SCORE_TRAINING_LOSS) the network then predicts X_val[order_val] into P_val
    and scores it against Y_val, sw_val; the best weights are copied to
    ``best``. Then epochs.end_epoch: the loss curve, the no-improvement
    counter, the learning-rate schedule (hp[H_LR] is the current learning
    rate), stopping.

    The phases run as run_task calls (through its address ``task_addr``, with
    ``task_key`` the checksum of its argument types, see indirect.py): all of
    them in one call on one thread when codes[C_TEAM] is 1, else by a team of
    codes[C_TEAM] threads in the one parallel region below (team.py), which
    also decides nothing about the arithmetic. ``ctl`` (team.N_CTL int64) is
    the team's and the loop's state, overwritten.

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
    MODE_PREDICT (X's outputs written to Y[order], no training). Returns -2
    and runs nothing if ``task_key`` does not match the call sites' types,
    else 0."""
    args = (
        theta, opt, G, acts, deltas, work, sums, xb, yb, swb, ctl, X, Y, sw, order,
        layout, codes, hp, batch_size, fit, curve, mt_key, best, X_val, Y_val,
        sw_val, P_val, order_val,
    )  # fmt: skip
    zero = np.intp(0)
    # all but the tuner's words (tuner.py: it goes on from the call before)
    for k in range(ctl.shape[0]):
        if k < T_CAP or k >= T_END:
            ctl[k] = 0
    ctl[L_PHASE] = PHASE_PROBE
    if not call_kernel(task_addr, task_key, (zero, zero, zero, zero), args):
        return -2
    ctl[L_PHASE] = PHASE_BEGIN
    ctl[L_SCRATCH] = acts.shape[0]
    if codes[C_TILE_WORK] > 0:  # members with tile scratch (layer phases)
        ctl[L_TILE_SETS] = work.size // codes[C_TILE_WORK]
    call_kernel(task_addr, task_key, (zero, zero, zero, np.intp(1)), args)
    if ctl[L_PHASE] != PHASE_DONE:
        publish(ctl, 1)
        # The training loop's one parfor (see team.py).
        for member in prange(codes[C_TEAM]):
            # the tuple built here, not captured: a captured tuple holding a
            # CSRMatrix is not a valid argument of the parfor's gufunc
            team_member(
                member, ctl, PHASE_DONE, task_addr, task_key,
                (theta, opt, G, acts, deltas, work, sums, xb, yb, swb, ctl, X, Y, sw,
                 order, layout, codes, hp, batch_size, fit, curve, mt_key, best,
                 X_val, Y_val, sw_val, P_val, order_val),
            )  # fmt: skip
    return 0
