"""The epoch loop's bookkeeping, in compiled code: scikit-learn's
``_fit_stochastic`` after each epoch, so that many epochs run per call.

After an epoch's batches (network.train_epochs, loop.py), in this order, as scikit-learn:
  1. loss_ = accumulated batch loss / n; n_iter_ += 1; loss curve (the caller
     counts t_ when it replays the curve);
  2. the no-improvement counter: on the training loss (``best_loss_ - tol``), or
     with early stopping on the validation score (``best_validation_score_ +
     tol``), keeping a copy of the best weights;
  3. ``invscaling``: learning_rate = learning_rate_init / (t_ + 1) ** power_t,
     read from curve[epoch, C_LR], which the caller fills in Python before the
     call (computed in the kernel, ``**`` differed from Python's in the last
     bit for a third of the epochs once linked into the parallel kernel);
  4. counter > n_iter_no_change: stop (adam, or a schedule other than
     ``adaptive``), stop when learning_rate <= 1e-6, or divide it by 5;
  5. n_iter_ == max_iter: stop (the caller warns).

The state carried between calls is the float64 array ``fit`` (F_* entries, all
integers in it exact); per epoch the kernel writes one row of ``curve`` (C_*
columns: loss, validation score, the event of step 4 and the learning rate
after it) for the caller to replay as scikit-learn's attributes, messages and
progress lines. How the call ended is fit[F_STATUS] (ST_*).

Validation scores (SCORE_*) are scikit-learn's ``score`` on the network's
outputs: accuracy of the decoded labels (argmax for softmax outputs, > 0.5 for
logistic ones, all labels of a row for multilabel), or R^2 averaged over
outputs (``r2_score``'s conventions for a constant target; NaN when an output
is not finite), with the validation sample weights.

Both kernels are compiled without fastmath (_jit.strict_kernel): the
comparisons and the score's sums run exactly as written, in index order.
"""

import numpy as np

from .._jit import inline_kernel, strict_kernel
from .losses import loss_forward_backward

# fit[] entries (float64; the counts in it are exact integers)
F_T = 0  # Adam's update count
F_SQNORM = 1  # ||coefs||^2 of theta; negative: compute it first
F_N_ITER = 2  # n_iter_, epochs done in this fit call
F_MAX_ITER = 3
F_EPOCHS = 4  # most epochs to run in this kernel call
F_DONE = 5  # epochs run in this kernel call (rows of curve written)
F_BEST_LOSS = 6
F_BEST_SCORE = 7
F_NO_IMPROVE = 8  # _no_improvement_count
F_TOL = 9
F_N_ITER_NO_CHANGE = 10
F_MT_POS = 11  # the shuffle's MT19937 position (shuffle.py), 0-624
F_STATUS = 12
F_DIVERGED_BATCH = 13  # with ST_DIVERGED: the batch, 0-based
# Within a call, between phases (loop.py): the epoch's summed batch losses
# (times rows), the last batch's objective, weight sum and step size.
F_ACCUM = 14
F_BATCH_LOSS = 15
F_SW_SUM = 16
F_STEP_LR = 17
F_SEEN = 18  # samples the model had seen when the epoch began (dropout.py)
F_STEPS = 19  # steps taken in this fit (partial_fit: since the first call)
F_DECAY_KEEP = 20  # the step's weight-decay factor 1 - lr_t * weight_decay
N_FIT = 21

# fit[F_STATUS]: how a call ended
ST_RUNNING, ST_MAX_ITER, ST_STOPPED, ST_DIVERGED = range(4)
# SCORE_EXTERNAL: the epoch is trained, its loss summed in fit[F_ACCUM]; the
# caller scores it and runs end_epoch
ST_SCORE_PENDING = 4

# curve[] columns, one row per epoch; C_EVENT values EV_*
C_LOSS, C_SCORE, C_EVENT, C_LR = range(4)
N_CURVE = 4
EV_NONE, EV_LR_REDUCED, EV_STOP, EV_STOP_LR_TOO_SMALL = range(4)

# codes[C_SCHEDULE] (network.py): the learning-rate schedule of sgd (adam: constant)
LR_CONSTANT, LR_INVSCALING, LR_ADAPTIVE = 0, 1, 2
# codes[C_SCORING]: the validation score computed after each epoch (none:
# SCORE_TRAINING_LOSS); SCORE_LOSS the negated validation data loss;
# SCORE_EXTERNAL one computed in Python between calls (a scorer), where the
# epoch's bookkeeping is left to the caller (ST_SCORE_PENDING).
(
    SCORE_TRAINING_LOSS, SCORE_R2, SCORE_ACCURACY_ARGMAX, SCORE_ACCURACY_THRESHOLD,
    SCORE_LOSS, SCORE_EXTERNAL,
) = range(6)  # fmt: skip


@inline_kernel
def _first_argmax(row):
    """np.argmax of a row: the first maximum, or the first NaN."""
    best = 0
    for j in range(row.shape[0]):
        if np.isnan(row[j]):
            return j
        if row[j] > row[best]:
            best = j
    return best


@strict_kernel
def validation_score(P, Y, sw, code, loss_code, loss_param):
    """scikit-learn's score of the outputs P (n, n_outputs) against the targets
    Y (the binarized labels, or the regression targets) with weights sw; for
    SCORE_LOSS minus the weighted mean of the training loss ``loss_code``
    (losses.py) over the rows. That is training's own loss kernel, compiled
    for these types already, rather than a second copy of its loops here (1 s
    of every first fit's compile); its deltas overwrite P, the epoch's
    validation outputs, which nothing reads after the score."""
    n, n_out = P.shape
    if code == SCORE_LOSS:
        w_sum = 0.0
        for i in range(n):
            w_sum += np.float64(sw[i])
        return -loss_forward_backward(P, P, Y, sw, loss_code, loss_param) / w_sum
    if code == SCORE_R2:
        for i in range(n):
            for j in range(n_out):
                if not np.isfinite(P[i, j]):
                    return np.nan
        w_sum = 0.0
        for i in range(n):
            w_sum += np.float64(sw[i])
        total = 0.0
        for j in range(n_out):
            mean = 0.0
            for i in range(n):
                mean += np.float64(sw[i]) * np.float64(Y[i, j])
            mean /= w_sum
            num = 0.0
            den = 0.0
            for i in range(n):
                w = np.float64(sw[i])
                r = np.float64(Y[i, j]) - np.float64(P[i, j])
                d = np.float64(Y[i, j]) - mean
                num += w * r * r
                den += w * d * d
            if den != 0.0:
                total += 1.0 - num / den
            elif num == 0.0:
                total += 1.0
        return total / n_out
    correct = 0.0
    w_sum = 0.0
    half = P.dtype.type(0.5)
    for i in range(n):
        if code == SCORE_ACCURACY_ARGMAX:
            ok = _first_argmax(P[i]) == _first_argmax(Y[i])
        else:
            ok = True
            for j in range(n_out):
                if (P[i, j] > half) != (Y[i, j] > half):
                    ok = False
        w = np.float64(sw[i])
        w_sum += w
        if ok:
            correct += w
    return correct / w_sum


@strict_kernel
def end_epoch(fit, curve, epoch, accumulated, n, score, lr, diverged,
              watch_score, code_schedule, adam):  # fmt: skip
    """Steps 1-5 of the module docstring for the epoch just trained, into row
    ``epoch`` of curve: ``accumulated`` is its summed batch loss over ``n``
    rows, ``score`` its validation score (NaN without one), ``lr`` the learning
    rate it used. The counter watches the score when ``watch_score`` (early
    stopping), else the training loss (a score is then only recorded, its best
    in fit[F_BEST_SCORE]). A ``diverged`` epoch (early stopping
    only: the caller stops at once otherwise) is recorded, then training stops
    (ST_DIVERGED) before step 4, as scikit-learn's loop breaks there.

    Returns (the learning rate for the next epoch, whether the score reached a
    new best (the caller keeps those weights), whether training stops here)."""
    loss = accumulated / n
    fit[F_N_ITER] += 1.0
    curve[epoch, C_LOSS] = loss
    curve[epoch, C_SCORE] = score
    tol = fit[F_TOL]
    improved = False
    if not watch_score:
        if loss > fit[F_BEST_LOSS] - tol:
            fit[F_NO_IMPROVE] += 1.0
        else:
            fit[F_NO_IMPROVE] = 0.0
        if loss < fit[F_BEST_LOSS]:
            fit[F_BEST_LOSS] = loss
        if score > fit[F_BEST_SCORE]:  # (False for NaN: no score)
            fit[F_BEST_SCORE] = score
    else:
        if score < fit[F_BEST_SCORE] + tol:
            fit[F_NO_IMPROVE] += 1.0
        else:
            fit[F_NO_IMPROVE] = 0.0
        if score > fit[F_BEST_SCORE]:
            fit[F_BEST_SCORE] = score
            improved = True
    if code_schedule == LR_INVSCALING:
        lr = curve[epoch, C_LR]
    event = EV_NONE
    stop = False
    if diverged:
        fit[F_STATUS] = ST_DIVERGED
        stop = True
    elif fit[F_NO_IMPROVE] > fit[F_N_ITER_NO_CHANGE]:
        if adam or code_schedule != LR_ADAPTIVE:
            event = EV_STOP
        elif lr <= 1e-6:
            event = EV_STOP_LR_TOO_SMALL
        else:
            lr /= 5.0
            event = EV_LR_REDUCED
            fit[F_NO_IMPROVE] = 0.0
        if event != EV_LR_REDUCED:
            fit[F_STATUS] = ST_STOPPED
            stop = True
    curve[epoch, C_EVENT] = event
    curve[epoch, C_LR] = lr
    if not stop and fit[F_N_ITER] >= fit[F_MAX_ITER]:
        fit[F_STATUS] = ST_MAX_ITER
        stop = True
    return lr, improved, stop
