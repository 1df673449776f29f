"""The training loop as a sequence of phases: what runs after what.

``network.train_epochs`` used to be nested loops (epochs, batches, the two
phases of a batch) around its parallel regions. With one team of threads per
call (team.py) the loop instead advances one phase at a time: whoever completes
a phase calls ``advance`` (inside network.run_task), which does the bookkeeping
between phases and leaves the next phase in the loop state ``ctl``:

    PHASE_BEGIN     the call's set-up (||coefs||^2, status), then the first epoch
    epoch start     the shuffle (codes[C_SHUFFLE]); the epoch's first batch
    PHASE_CHUNKS    a batch's row chunks (forward, loss, backward)  -> the loss,
                    Adam's t and step size                           -> PHASE_STEP
                    or, when more members can take part than the batch has
                    chunks, the same work as layer phases (below)
    PHASE_NORM      with max_grad_norm: the batch's gradient summed and its
                    squared norm, in CHUNK-element slices -> the clipping
                    factor (folded into the weight sum F_SW_SUM)
    PHASE_STEP      the step, in CHUNK-element slices -> ||coefs||^2 and the
                    divergence check -> the next batch
    PHASE_PREDICT / PHASE_VALIDATE   blocks of prediction outputs -> the next block
    epoch end       the validation score, epochs.end_epoch, the best weights
    PHASE_DONE      the call is over (fit[F_STATUS] says how)

Layer phases (a batch's chunks, with more members than chunks): each chunk's
products are divided into column tiles of TILE_COLS columns (one GEMM panel,
codes[C_TILE_COLS]); a tile is a task, so a batch of 4 chunks of a 512-wide
net is 64 tasks per layer rather than 4:

    PHASE_GATHER    each chunk's rows and targets gathered
    PHASE_FORWARD   layer ctl[L_LAYER]'s outputs, (tile, chunk) per task; the
                    layers in order
    PHASE_LOSS      each chunk's output activation, loss and output delta
    PHASE_BACKWARD  layer ctl[L_LAYER]'s weight and bias gradient tiles and its
                    input delta tiles; the layers in reverse -> as PHASE_CHUNKS

Every element is computed by the same operations in either form (the products
and elementwise kernels take a column range and compute each element as the
whole product does; tests/kernels/test_gemm.py), so which form a batch takes
never changes a bit: it is a schedule, chosen per batch from the members that
may take part (the tuner's cap).

The floating-point state between phases lives in ``fit`` (F_SQNORM, F_ACCUM,
F_SW_SUM, F_STEP_LR, F_BATCH_LOSS), the integer state here (L_*), so any
member of the team can pick the loop up where another left it. ``advance`` is
a kernel of its own, compiled without fastmath (_jit.strict_kernel): its
arithmetic is then the same in every copy of it that Numba makes (a kernel
is compiled on its own and again inside its caller, run_task, and a fastmath
copy may be reassociated differently in each; see optimizers.step_chunk),
and it runs as written, like epochs.py.

Whether a phase is split among the team is decided per phase (``set_phase``);
this never changes a result.
"""

import numpy as np

from .._jit import inline_kernel, strict_kernel
from .dropout import epoch_key
from .epochs import (
    F_ACCUM,
    F_BATCH_LOSS,
    F_DECAY_KEEP,
    F_DIVERGED_BATCH,
    F_DONE,
    F_EPOCHS,
    F_MT_POS,
    F_SEEN,
    F_SQNORM,
    F_STATUS,
    F_STEP_LR,
    F_STEPS,
    F_SW_SUM,
    F_T,
    SCORE_EXTERNAL,
    SCORE_TRAINING_LOSS,
    ST_DIVERGED,
    ST_RUNNING,
    ST_SCORE_PENDING,
    end_epoch,
    validation_score,
)
from .layout import FAN_IN, FAN_OUT
from .optimizers import (
    H_ALPHA,
    H_BETA_1,
    H_BETA_2,
    H_LOSS_PARAM,
    H_LR,
    H_MAX_GRAD_NORM,
    H_TOTAL_STEPS,
    H_WARMUP_STEPS,
    H_WEIGHT_DECAY,
    SHAPE_CONSTANT,
    SOLVER_ADAM,
    SOLVER_NONE,
    lr_factor,
    n_chunks_jit,
    squared_norm,
)
from .shuffle import legacy_shuffle
from .team import (
    CLAIM_STRIDE,
    K_CLAIM,
    K_STATE,
    L_MEMBERS,
    L_PHASE,
    L_TASKS,
    L_UNIT,
    L_UNITS,
    UNITS_PER_MEMBER,
)
from .tuner import T_CAP, T_END, T_LAST, T_LIMIT, start_tuning, tune_batch

# codes[] entries: the output activation (the hidden layers' are in the layout
# table, layout.ACT), loss, solver; whether phase 0 (row chunks) and phase 1
# (the step) may be split among the team; rows per chunk; the mode.
C_OUT, C_LOSS, C_SOLVER, C_PARALLEL, C_STEP_PARALLEL, C_CHUNK_ROWS = range(6)
# The epoch loop's codes (epochs.py): the learning-rate schedule, what the
# stopping rule watches, whether each epoch shuffles; the team's size.
C_MODE, C_SCHEDULE, C_SCORING, C_SHUFFLE, C_TEAM = 6, 7, 8, 9, 10
# Layer phases: columns per tile (0: never tiled), the scratch elements a
# tile's product needs (_solver.Workspace sizes both); 1 to run every batch
# as layer phases, whatever the team (the tests compare the two forms).
C_TILE_COLS, C_TILE_WORK, C_ALWAYS_LAYERED = 11, 12, 13
# The model's dropout seed (dropout.py; 0 without dropout).
C_DROPOUT_SEED = 14
# The learning rate's shape over the fit's steps (optimizers.SHAPE_*, with
# hp[H_TOTAL_STEPS], hp[H_WARMUP_STEPS]); 1 when the no-improvement counter
# watches the validation score (early stopping), 0 when it watches the
# training loss (a validation score, codes[C_SCORING], is then only recorded).
C_LR_SHAPE, C_EARLY_STOP = 15, 16
N_CODES = 17
MODE_TRAIN, MODE_PREDICT = 0, 1
(
    PHASE_CHUNKS, PHASE_STEP, PHASE_PROBE, PHASE_PREDICT, PHASE_VALIDATE,
    PHASE_BEGIN, PHASE_DONE, PHASE_GATHER, PHASE_FORWARD, PHASE_LOSS,
    PHASE_BACKWARD, PHASE_NORM,
) = range(12)  # fmt: skip

# Rows of the float64 ``sums`` buffer: the step's per-slice squared norms, and
# each row chunk's weighted loss sum and weight sum.
S_PARTIAL, S_LOSS, S_WEIGHT = 0, 1, 2

# The loop state in ctl (after team.py's L_PHASE ... L_MEMBERS).
L_EPOCH = K_STATE + 5  # epoch of this call
L_BATCH = K_STATE + 6  # batch of the epoch: training ones, then validation ones
L_START = K_STATE + 7  # the batch's rows order[start:stop] (order_val for validation)
L_STOP = K_STATE + 8
L_DIVERGED = K_STATE + 9  # the batch that diverged in this epoch, or -1
L_MT_POS = K_STATE + 10  # the shuffle's MT19937 position
L_T = K_STATE + 11  # Adam's update count
L_N_BATCHES = K_STATE + 12  # training batches per epoch
L_N_VAL_BATCHES = K_STATE + 13  # validation blocks per epoch (0: none)
L_N_PARTS = K_STATE + 14  # the batch's row chunks
L_SCRATCH = K_STATE + 15  # sets of scratch buffers (acts, deltas, work)
# (the tuner's words follow, up to T_END)
L_LAYER = T_END  # layer of the layer phase in progress
L_TILE_SETS = T_END + 1  # members that have tile scratch in work (layer phases)
L_WIDEST = T_END + 2  # column tiles of the widest layer (0: layer phases off)
L_DROP_KEY = T_END + 3  # the epoch's dropout key (dropout.epoch_key)
assert L_DROP_KEY < K_CLAIM, "the loop state runs into the team's claim words"

# What advance does next
_NEXT_EPOCH, _NEXT_BATCH, _END_EPOCH, _FINISHED = range(4)


@strict_kernel
def set_phase(ctl, codes, phase, n_tasks, split):
    """The next phase: ``n_tasks`` tasks, split among the team when ``split``
    and there is a team and more than one task (units of consecutive tasks,
    at most team.UNITS_PER_MEMBER per member taking part, and no more than
    ctl has claim words for), else one unit, which the lead runs itself.
    Members take part in phases that use scratch buffers only up to the
    number of buffer sets (ctl[L_SCRATCH]); the step uses none, layer phases
    a tile's scratch each (ctl[L_TILE_SETS]); and in a training call only up
    to the cap that tuner.py chose (ctl[T_CAP])."""
    ctl[L_PHASE] = phase
    ctl[L_TASKS] = n_tasks
    members = _members(ctl, codes)
    if PHASE_GATHER <= phase <= PHASE_BACKWARD:
        members = min(members, ctl[L_TILE_SETS])
    elif phase != PHASE_STEP and phase != PHASE_NORM:
        members = min(members, ctl[L_SCRATCH])
    members = min(members, n_tasks)
    if split and members > 1:
        capacity = (ctl.shape[0] - K_CLAIM) // CLAIM_STRIDE
        n_units = min(n_tasks, UNITS_PER_MEMBER * members, capacity)
        unit = (n_tasks + n_units - 1) // n_units
        ctl[L_UNIT] = unit
        ctl[L_UNITS] = (n_tasks + unit - 1) // unit
        ctl[L_MEMBERS] = min(members, ctl[L_UNITS])
    else:
        ctl[L_UNIT] = max(n_tasks, 1)
        ctl[L_UNITS] = 1
        ctl[L_MEMBERS] = 1


@inline_kernel
def _members(ctl, codes):
    """Members that may take part in a split phase: the team, within the cap."""
    members = codes[C_TEAM]
    if ctl[T_CAP] > 0:
        members = min(members, ctl[T_CAP])
    return members


@inline_kernel
def _tiles(layout, codes, layer, column):
    """Column tiles of layer ``layer``'s fan-in (column FAN_IN) or fan-out."""
    tile = codes[C_TILE_COLS]
    return (layout[layer, column] + tile - 1) // tile


@inline_kernel
def _layered(ctl, codes, n_parts):
    """Whether a batch of n_parts chunks runs as layer phases: more members may
    take part than it has chunks, and its widest layer has more than one tile
    (with one, a layer phase has no more tasks than the chunks). A training
    call with nothing to split (T_CAP 0: the tuner found a limit below 2)
    never does: W4's online steps (batch 1, a 16-wide net) otherwise ran as
    2 L + 2 phases of one task each, and took 2.1x as long."""
    if codes[C_TILE_COLS] == 0:
        return False
    if codes[C_ALWAYS_LAYERED] != 0:
        return True
    if codes[C_PARALLEL] == 0 or ctl[L_WIDEST] < 2:
        return False
    if ctl[T_CAP] == 0 and not _is_one_pass(codes):
        return False
    return min(_members(ctl, codes), ctl[L_TILE_SETS]) > n_parts


@inline_kernel
def _widest(layout, codes):
    """Column tiles of the net's widest layer (0 where layer phases are off)."""
    widest = 0
    if codes[C_TILE_COLS] > 0:
        for layer in range(layout.shape[0]):
            widest = max(widest, _tiles(layout, codes, layer, FAN_OUT))
    return widest


@inline_kernel
def _next_layer_phase(ctl, layout, codes, phase):
    """After layer phase ``phase``: the next one (its tasks (tile, chunk)
    pairs, tile-major, see network.run_task) in ctl, and True; or False after
    the first layer's backward phase, the batch's last. Inlined once, in
    advance: a kernel of its own costs a compile of its own."""
    layer = ctl[L_LAYER]
    last = layout.shape[0] - 1
    if phase == PHASE_GATHER:
        phase = PHASE_FORWARD
        layer = 0
    elif phase == PHASE_FORWARD and layer < last:
        layer += 1
    elif phase == PHASE_FORWARD:
        phase = PHASE_LOSS
    elif phase == PHASE_LOSS:
        phase = PHASE_BACKWARD
        layer = last
    elif layer > 0:
        layer -= 1
    else:
        return False
    ctl[L_LAYER] = layer
    n_parts = ctl[L_N_PARTS]
    n_tasks = n_parts  # PHASE_LOSS: one per chunk
    if phase != PHASE_LOSS:
        n_tasks *= _tiles(layout, codes, layer, FAN_OUT)
    if phase == PHASE_BACKWARD and layer > 0:  # and the input delta's tiles
        n_tasks += n_parts * _tiles(layout, codes, layer, FAN_IN)
    set_phase(ctl, codes, phase, n_tasks, True)
    return True


@inline_kernel
def _is_one_pass(codes):
    return codes[C_MODE] == MODE_PREDICT or codes[C_SOLVER] == SOLVER_NONE


@inline_kernel
def _validates(codes):
    """Whether each epoch predicts and scores the validation set in here (a
    SCORE_EXTERNAL score is the caller's)."""
    scoring = codes[C_SCORING]
    if scoring == SCORE_TRAINING_LOSS or scoring == SCORE_EXTERNAL:
        return False
    return not _is_one_pass(codes)


@strict_kernel
def _start_batch(ctl, codes, batch_size, n, n_val):
    """Phase of batch ctl[L_BATCH]; False when the epoch has no more batches.
    (Integer divisions cost tens of cycles: one per batch, as on a W4 step of
    ~3 us they add up.)"""
    n_batches = ctl[L_N_BATCHES]
    b = ctl[L_BATCH]
    if b >= n_batches + ctl[L_N_VAL_BATCHES]:
        return False
    train = b < n_batches
    if train:
        start = b * batch_size
        stop = min(start + batch_size, n)
    else:
        start = (b - n_batches) * batch_size
        stop = min(start + batch_size, n_val)
    if train:  # (returns at once where nothing is tuned: T_CAP 0)
        tune_batch(ctl)
    ctl[L_START] = start
    ctl[L_STOP] = stop
    chunk_rows = codes[C_CHUNK_ROWS]
    n_parts = (stop - start + chunk_rows - 1) // chunk_rows
    ctl[L_N_PARTS] = n_parts
    if not train:
        phase = PHASE_VALIDATE
    elif codes[C_MODE] == MODE_PREDICT:
        phase = PHASE_PREDICT
    elif _layered(ctl, codes, n_parts):
        phase = PHASE_GATHER
    else:
        phase = PHASE_CHUNKS
    set_phase(ctl, codes, phase, n_parts, codes[C_PARALLEL] != 0)
    return True


@strict_kernel
def _most_members(ctl, layout, codes, n, batch_size, n_slices):
    """The most members a split phase of this training call can use: its
    chunks, or in layer phases the (tile, chunk) tasks of its widest layer."""
    most = 1
    if codes[C_PARALLEL] != 0:
        rows = min(batch_size, n)
        parts = (rows + codes[C_CHUNK_ROWS] - 1) // codes[C_CHUNK_ROWS]
        most = min(parts, ctl[L_SCRATCH])
        if ctl[L_WIDEST] > 1:
            most = max(most, min(parts * ctl[L_WIDEST], ctl[L_TILE_SETS]))
    if codes[C_STEP_PARALLEL] != 0:
        most = max(most, n_slices)
    return min(most, codes[C_TEAM])


@inline_kernel
def _chunks_done(ctl, sums, codes, hp, fit, n_slices):
    """After a batch's chunks: its loss (scikit-learn's batch objective), the
    step's learning rate (its shape, optimizers.lr_factor), Adam's t and step
    size, the weight decay's factor; then the step, or first the gradient's
    norm (max_grad_norm). Inlined into advance (strict, as it), like
    _step_done: as kernels of their own they were two calls per step with
    their array arguments, and two compiles on every first fit."""
    nb = ctl[L_STOP] - ctl[L_START]
    loss_sum = 0.0
    sw_sum = 0.0
    for c in range(ctl[L_N_PARTS]):
        loss_sum += sums[S_LOSS, c]
        sw_sum += sums[S_WEIGHT, c]
    alpha = hp[H_ALPHA]
    batch_loss = loss_sum / sw_sum + 0.5 * alpha * fit[F_SQNORM] / sw_sum
    fit[F_BATCH_LOSS] = batch_loss
    fit[F_ACCUM] += batch_loss * nb
    fit[F_SW_SUM] = sw_sum
    lr = hp[H_LR]
    shape = codes[C_LR_SHAPE]
    if shape != SHAPE_CONSTANT or hp[H_WARMUP_STEPS] > 0.0:
        lr *= lr_factor(shape, fit[F_STEPS], hp[H_WARMUP_STEPS], hp[H_TOTAL_STEPS])
    fit[F_STEPS] += 1.0
    if codes[C_SOLVER] == SOLVER_ADAM:
        t = ctl[L_T] + 1
        ctl[L_T] = t
        fit[F_STEP_LR] = (
            lr * np.sqrt(1.0 - hp[H_BETA_2] ** t) / (1.0 - hp[H_BETA_1] ** t)
        )
    else:
        fit[F_STEP_LR] = lr
    fit[F_DECAY_KEEP] = 1.0 - lr * hp[H_WEIGHT_DECAY]
    phase = PHASE_STEP
    if hp[H_MAX_GRAD_NORM] > 0.0 and codes[C_SOLVER] != SOLVER_NONE:
        phase = PHASE_NORM
    set_phase(ctl, codes, phase, n_slices, codes[C_STEP_PARALLEL] != 0)


@inline_kernel
def _norm_done(ctl, sums, codes, hp, fit, n_slices):
    """After the gradient's norm phase: clip as torch.nn.utils.clip_grad_norm_
    does, g <- g * max_norm / (norm + 1e-6) when that factor is below 1, by
    dividing the step's weight sum by it (g = (graw + alpha w) / sw_sum); the
    chunks' gradients are summed into G[0] now, so the step sums no parts.
    Inlined into advance (strict, as it): a kernel of its own is a compile of
    its own on every first fit (0.2 s), clipping or not."""
    sq = 0.0
    for c in range(n_slices):
        sq += sums[S_PARTIAL, c]
    clip = hp[H_MAX_GRAD_NORM] / (np.sqrt(sq) + 1e-6)
    if clip < 1.0:
        fit[F_SW_SUM] = fit[F_SW_SUM] / clip
    ctl[L_N_PARTS] = 1
    set_phase(ctl, codes, PHASE_STEP, n_slices, codes[C_STEP_PARALLEL] != 0)


@inline_kernel
def _step_done(ctl, sums, codes, fit, batch_size, n_slices):
    """After a step: ||coefs||^2 and the divergence check. Returns what next."""
    sqnorm = 0.0
    for c in range(n_slices):
        sqnorm += sums[S_PARTIAL, c]
    fit[F_SQNORM] = sqnorm
    ctl[L_BATCH] += 1
    if np.isfinite(fit[F_BATCH_LOSS]) and np.isfinite(sqnorm):
        return _NEXT_BATCH
    diverged = ctl[L_START] // batch_size
    ctl[L_DIVERGED] = diverged
    fit[F_DIVERGED_BATCH] = diverged
    if not _validates(codes):
        fit[F_STATUS] = ST_DIVERGED
        return _FINISHED
    # score the diverged weights, then stop (as scikit-learn records the epoch)
    ctl[L_BATCH] = ctl[L_N_BATCHES]
    return _NEXT_BATCH


@strict_kernel
def advance(theta, sums, order, layout, codes, hp, batch_size, fit, curve, mt_key,
            best, Y_val, sw_val, P_val, order_val, ctl):  # fmt: skip
    """The bookkeeping after phase ctl[L_PHASE]; leaves the next phase in ctl
    (PHASE_DONE at the end of the call)."""
    n = order.shape[0]
    n_val = order_val.shape[0]
    n_slices = n_chunks_jit(theta.shape[0])
    phase = ctl[L_PHASE]
    one_pass = _is_one_pass(codes)
    nxt = _NEXT_BATCH
    if phase == PHASE_BEGIN:
        n_coef = layout[0, 1]
        if fit[F_SQNORM] < 0.0:
            fit[F_SQNORM] = squared_norm(theta[:n_coef])
        ctl[L_T] = np.int64(fit[F_T])
        ctl[L_MT_POS] = np.int64(fit[F_MT_POS])
        ctl[L_EPOCH] = 0
        ctl[L_N_BATCHES] = (n + batch_size - 1) // batch_size
        if _validates(codes):
            ctl[L_N_VAL_BATCHES] = (n_val + batch_size - 1) // batch_size
        fit[F_STATUS] = ST_RUNNING
        fit[F_DONE] = 0.0
        ctl[L_WIDEST] = _widest(layout, codes)
        if one_pass:
            ctl[T_CAP] = 0
        else:
            limit = _most_members(ctl, layout, codes, n, batch_size, n_slices)
            if ctl[T_CAP] == 0 or ctl[T_LIMIT] != limit:
                start_tuning(ctl, limit)
            else:  # go on from the last call (its last batch is not timed)
                ctl[T_LAST] = 0
        nxt = _NEXT_EPOCH
    elif phase == PHASE_NORM:
        _norm_done(ctl, sums, codes, hp, fit, n_slices)
        return
    elif phase == PHASE_CHUNKS or phase >= PHASE_GATHER:
        # the batch's chunks done, or a layer phase: the next, or the batch's
        # end (one call site: _chunks_done is inlined)
        if phase == PHASE_CHUNKS or not _next_layer_phase(ctl, layout, codes, phase):
            _chunks_done(ctl, sums, codes, hp, fit, n_slices)
        return
    elif phase == PHASE_STEP:
        nxt = _step_done(ctl, sums, codes, fit, batch_size, n_slices)
    else:  # PHASE_PREDICT, PHASE_VALIDATE
        ctl[L_BATCH] += 1
    while True:
        if nxt == _NEXT_EPOCH:
            if codes[C_SHUFFLE] != 0 and not one_pass:
                ctl[L_MT_POS] = legacy_shuffle(order, mt_key, ctl[L_MT_POS])
            fit[F_ACCUM] = 0.0
            ctl[L_DIVERGED] = -1
            ctl[L_BATCH] = 0
            # the epoch's dropout masks: the model's seed, the samples seen
            ctl[L_DROP_KEY] = epoch_key(codes[C_DROPOUT_SEED], fit[F_SEEN])
            nxt = _NEXT_BATCH
        elif nxt == _NEXT_BATCH:
            if _start_batch(ctl, codes, batch_size, n, n_val):
                return
            nxt = _END_EPOCH
        elif nxt == _END_EPOCH:
            diverged = ctl[L_DIVERGED] >= 0
            validate = _validates(codes)
            if one_pass or (diverged and not validate):
                nxt = _FINISHED
                continue
            epoch = ctl[L_EPOCH]
            scoring = codes[C_SCORING]
            fit[F_SEEN] += n  # the next epoch's dropout masks (dropout.py)
            if scoring == SCORE_EXTERNAL:  # the caller scores, then end_epoch
                fit[F_STATUS] = ST_SCORE_PENDING
                nxt = _FINISHED
                continue
            score = np.nan
            if validate:
                score = validation_score(
                    P_val, Y_val, sw_val, scoring, codes[C_LOSS], hp[H_LOSS_PARAM]
                )
            lr_next, improved, stop_now = end_epoch(
                fit, curve, epoch, fit[F_ACCUM], n, score, hp[H_LR], diverged,
                codes[C_EARLY_STOP] != 0, codes[C_SCHEDULE],
                codes[C_SOLVER] == SOLVER_ADAM,
            )  # fmt: skip
            if improved:
                for k in range(theta.shape[0]):
                    best[k] = theta[k]
            hp[H_LR] = lr_next
            fit[F_DONE] = epoch + 1.0
            if stop_now or epoch + 1 >= np.int64(fit[F_EPOCHS]):
                nxt = _FINISHED
            else:
                ctl[L_EPOCH] = epoch + 1
                nxt = _NEXT_EPOCH
        else:  # _FINISHED
            fit[F_T] = ctl[L_T]
            fit[F_MT_POS] = ctl[L_MT_POS]
            ctl[L_PHASE] = PHASE_DONE
            ctl[L_TASKS] = 0
            ctl[L_UNITS] = 1
            ctl[L_UNIT] = 0
            ctl[L_MEMBERS] = 1
            return
