"""Solvers: the plain-Python epoch loop around one compiled ``train_epoch`` call,
and L-BFGS through ``scipy.optimize.minimize`` on the flat parameter buffer.

The loop mirrors scikit-learn's ``BaseMultilayerPerceptron._fit_stochastic`` line
by line (shuffling from the same RandomState stream, loss bookkeeping, the
no-improvement counter, learning-rate schedules, early stopping, warnings), so
that the same ``random_state`` gives the same model. Only the work inside an epoch
moved into compiled code.
"""

import signal
import threading
import warnings
from contextlib import closing, contextmanager

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import shuffle as sk_shuffle
from sklearn.utils.optimize import _check_optimize_result

from ._kernels import gemm, optimizers
from ._kernels.jacobian import input_jacobian
from ._kernels.network import (
    C_CHUNK_ROWS,
    C_PARALLEL,
    C_SOLVER,
    C_SPLIT_PARALLEL,
    C_STEP_PARALLEL,
    H_ALPHA,
    H_BETA_1,
    H_BETA_2,
    H_EPSILON,
    H_LR,
    H_MOMENTUM,
    H_NESTEROV,
    N_HP,
    SOLVER_ADAM,
    SOLVER_SGD,
    Buffers,
    forward_backward,
    predict_blocks,
    train_epoch,
)
from ._kernels.sparse import CSRMatrix, CSRRows
from ._notice import notify_kernels
from ._progress import Progress
from ._threads import parallel_allowed

# A step runs its kernels' prange branches only when it has enough work to pay
# for waking the thread pool. Decided from shapes alone so that the result never
# depends on the thread count.
PARALLEL_MIN_ROWS = 16
PARALLEL_MIN_MACS = 1 << 18

PREDICT_BLOCK_ROWS = 512
# The Jacobian's reverse pass runs n_outputs stacked rows per input row; blocks
# hold about this many stacked rows, so its buffers stay bounded whatever n
# (2 x 4096 x the widest layer) while each parallel region has rows to share.
JACOBIAN_BLOCK_ROWS = 4096


# Mini-batches of at least 2 * MIN_CHUNK_ROWS rows are cut into row chunks trained
# in parallel (one parallel region per batch instead of one per kernel). The chunk
# count depends on the batch size only, never on the thread count, so weights are
# bit-identical for any n_jobs; MAX_SPLIT bounds how many threads a batch can use.
MIN_CHUNK_ROWS = 32
MAX_SPLIT = 16
# The optimizer step runs its prange branch from this many parameters on.
STEP_PARALLEL_MIN_PARAMS = 1 << 16


def use_parallel(n_rows, n_coef):
    """Whether kernels on n_rows rows of a network with n_coef weights take their
    prange branches: enough work, and a process and thread allowed to run parallel
    regions (_threads.parallel_allowed; the serial branches compute the same bits)."""
    return (
        n_rows >= PARALLEL_MIN_ROWS
        and n_rows * n_coef >= PARALLEL_MIN_MACS
        and parallel_allowed()
    )


def batch_split(batch_size):
    """(chunks per full batch, rows per chunk) for mini-batches of batch_size.

    The chunk count is a power of two (at most MAX_SPLIT, chunks of at least
    MIN_CHUNK_ROWS rows), so chunks divide evenly over 1, 2, 4, ... threads:
    W1's 200-row batches as 4 x 50 rows trained in 0.18 s on 2 threads, against
    0.30 s as 6 x 34 (three chunks per thread, smaller GEMMs, more merging)."""
    n_split = 1
    while n_split * 2 <= min(MAX_SPLIT, batch_size // MIN_CHUNK_ROWS):
        n_split *= 2
    chunk_rows = -(-batch_size // n_split)
    return n_split, chunk_rows


def kernel_input(X, dtype):
    """X as the kernels take it: a C-contiguous array of ``dtype``, or for sparse X
    a CSRMatrix of CSR arrays (CSC and other formats are converted to CSR, which
    copies the nonzeros but never densifies)."""
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=dtype)
        return CSRMatrix(
            np.ascontiguousarray(X.data),
            np.ascontiguousarray(X.indices),
            np.ascontiguousarray(X.indptr),
        )
    return np.ascontiguousarray(X, dtype=dtype)


def kernel_targets(Y, sample_weight, dtype):
    """Y and the sample weights as the kernels take them: C-contiguous arrays of
    ``dtype``; no weights become ones (multiplying by 1 changes no bit)."""
    Y = np.ascontiguousarray(Y, dtype=dtype)
    if sample_weight is None:
        return Y, np.ones(Y.shape[0], dtype=dtype)
    return Y, np.ascontiguousarray(sample_weight, dtype=dtype)


def gemm_work_elements(units, max_rows, dense_input):
    """Scratch for the largest of the products a step runs (gemm_work_size):
    per layer U = H @ W, dW = H.T @ dU and dH = dU @ W.T. About the size of the
    largest weight matrix; a sparse input layer uses no GEMM scratch."""
    need = 1
    for layer, (fan_in, fan_out) in enumerate(zip(units[:-1], units[1:])):
        if layer > 0 or dense_input:
            need = max(
                need,
                gemm.gemm_work_size(max_rows, fan_out, fan_in),  # H @ W
                gemm.gemm_work_size(fan_in, fan_out, max_rows),  # H.T @ dU
            )
        if layer > 0:
            need = max(need, gemm.gemm_work_size(max_rows, fan_in, fan_out))  # dU @ W.T
    return need


class Workspace:
    """Every buffer a batch step touches, allocated once per fit.

    Buffers that a chunk of a split batch writes have a leading axis of n_split
    (G, acts, deltas, work), each chunk sized for ``chunk_rows`` rows; the
    gathered batch (xb, yb, swb) holds ``batch_rows`` rows."""

    def __init__(
        self,
        layout,
        chunk_rows,
        n_features,
        n_outputs,
        dtype,
        dense_input=True,
        n_split=1,
        batch_rows=None,
    ):
        batch_rows = chunk_rows if batch_rows is None else batch_rows
        self.table = layout.table(chunk_rows)
        size = layout.activation_size(chunk_rows)
        self.acts = np.empty((n_split, size), dtype=dtype)
        self.deltas = np.empty((n_split, size), dtype=dtype)
        # Dense batches are gathered here; sparse batches are read in place.
        self.xb = np.empty((batch_rows if dense_input else 0, n_features), dtype=dtype)
        self.yb = np.empty((batch_rows, n_outputs), dtype=dtype)
        self.swb = np.empty(batch_rows, dtype=dtype)
        self.G = np.empty((n_split, layout.n_params), dtype=dtype)
        self.work = np.empty(
            (n_split, gemm_work_elements(layout.layer_units, chunk_rows, dense_input)),
            dtype=dtype,
        )
        self.partial = np.empty(optimizers.n_chunks(layout.n_params))
        self.losses = np.empty(n_split)
        self.sw_sums = np.empty(n_split)
        self.buffers = Buffers(
            self.G,
            self.acts,
            self.deltas,
            self.work,
            self.xb,
            self.yb,
            self.swb,
            self.partial,
            self.losses,
            self.sw_sums,
        )


class OptimizerState:
    """SGD velocity or Adam moments, kept across ``partial_fit`` calls.

    Mirrors scikit-learn's ``SGDOptimizer``/``AdamOptimizer``: ``learning_rate`` is
    the current (schedule-adjusted) rate, ``t`` Adam's update count."""

    def __init__(self, solver, n_params, dtype, est):
        self.solver = solver
        self.learning_rate_init = float(est.learning_rate_init)
        self.learning_rate = float(est.learning_rate_init)
        self.lr_schedule = est.learning_rate
        self.power_t = est.power_t
        self.t = 0
        self.moments = np.zeros((2, n_params), dtype=dtype)

    def iteration_ends(self, time_step):
        if self.solver == "sgd" and self.lr_schedule == "invscaling":
            self.learning_rate = (
                float(self.learning_rate_init) / (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, msg, say):
        """scikit-learn's stopping rule; ``say`` reports its message (Progress.say)."""
        if self.solver == "adam" or self.lr_schedule != "adaptive":
            say(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            say(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        say(msg + " Setting learning rate to %f" % self.learning_rate)
        return False


def hyperparameters(est):
    hp = np.zeros(N_HP)
    hp[H_LR] = est.learning_rate_init
    hp[H_MOMENTUM] = est.momentum
    hp[H_NESTEROV] = float(bool(est.nesterovs_momentum))
    hp[H_BETA_1] = est.beta_1
    hp[H_BETA_2] = est.beta_2
    hp[H_EPSILON] = est.epsilon
    hp[H_ALPHA] = est.alpha
    return hp


DIVERGED_MESSAGE = (
    "Solver produced non-finite parameter weights. The input data may"
    " contain large values and need to be preprocessed."
)


class _Interrupt:
    """Ctrl-C requests seen while ``deferred_interrupt`` is active."""

    def __init__(self):
        self.requested = False

    def __call__(self, signum, frame):
        if self.requested:  # a second Ctrl-C does not wait for the epoch to end
            raise KeyboardInterrupt
        self.requested = True


@contextmanager
def deferred_interrupt():
    """Turn SIGINT into a request that the epoch loop honours between epochs.

    Python runs signal handlers only between bytecodes, so a KeyboardInterrupt
    could otherwise land in the middle of an epoch's bookkeeping (n_iter_
    counted but loss_curve_ not appended, theta newer than t_). The loop checks
    the request once an epoch's bookkeeping is complete, so an interrupted fit
    ends consistently at its last completed epoch. Only Python's default
    handler, in the main thread, is replaced (signal handlers can be set only
    there, and only the main thread ever receives KeyboardInterrupt); a
    user's own handler is left alone. A second Ctrl-C raises KeyboardInterrupt
    at once, and the fit is then rolled back by the estimator."""
    interrupt = _Interrupt()
    install = (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    )
    if install:
        signal.signal(signal.SIGINT, interrupt)
    try:
        yield interrupt
    finally:
        if install:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def fit_stochastic(est, theta, layout, X, Y, sample_weight, codes, incremental):
    """Train ``theta`` in place with sgd/adam; sets the estimator's bookkeeping
    attributes exactly as scikit-learn's ``_fit_stochastic`` does.

    X (n, n_features) and Y (n, n_outputs) share theta's dtype; ``sample_weight``
    is an array of that dtype or None. Weights in ``est.coefs_``/``intercepts_``
    are refreshed from theta at the end (and per epoch when early stopping needs
    them)."""
    dtype = theta.dtype
    if not incremental or not hasattr(est, "_optimizer"):
        est._optimizer = OptimizerState(est.solver, layout.n_params, dtype, est)
    opt = est._optimizer

    if est.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    early_stopping = est.early_stopping
    rs = est._random_state
    if early_stopping:
        should_stratify = is_classifier(est) and est.n_outputs_ == 1
        stratify = Y if should_stratify else None
        if sample_weight is None:
            X_train, X_val, Y_train, Y_val = train_test_split(
                X,
                Y,
                random_state=rs,
                test_size=est.validation_fraction,
                stratify=stratify,
            )
            sw_train = sw_val = None
        else:
            X_train, X_val, Y_train, Y_val, sw_train, sw_val = train_test_split(
                X,
                Y,
                sample_weight,
                random_state=rs,
                test_size=est.validation_fraction,
                stratify=stratify,
            )
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        y_val = est._decode_validation_target(Y_val)
    else:
        X_train, Y_train, sw_train = X, Y, sample_weight
        X_val = y_val = sw_val = None

    n_samples = X_train.shape[0]
    sample_idx = np.arange(n_samples, dtype=int)
    if est.batch_size == "auto":
        batch_size = min(200, n_samples)
    elif est.batch_size == "full":
        # Batch gradient descent: one step per epoch on every training row
        # (for partial_fit, the chunk passed in).
        batch_size = n_samples
    else:
        if est.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than "
                "sample size. It is going to be clipped"
            )
        batch_size = int(np.clip(est.batch_size, 1, n_samples))

    X_train = kernel_input(X_train, dtype)
    Y_train, sw = kernel_targets(Y_train, sw_train, dtype)

    n_split, chunk_rows = batch_split(batch_size)
    ws = Workspace(
        layout,
        chunk_rows,
        X.shape[1],
        Y.shape[1],
        dtype,
        dense_input=not sp.issparse(X),
        n_split=n_split,
        batch_rows=batch_size,
    )
    codes = codes.copy()
    parallel_ok = parallel_allowed()
    codes[C_PARALLEL] = int(n_split == 1 and use_parallel(batch_size, layout.n_coef))
    # With a split batch the step runs in parallel too, so no long serial stretch
    # lets the thread pool fall asleep between batches (waking it costs more than
    # the step on small nets: measured 190 vs 100 us per W1 step).
    codes[C_STEP_PARALLEL] = int(
        parallel_ok and (n_split > 1 or layout.n_params >= STEP_PARALLEL_MIN_PARAMS)
    )
    codes[C_SPLIT_PARALLEL] = int(parallel_ok)
    codes[C_CHUNK_ROWS] = chunk_rows
    codes[C_SOLVER] = SOLVER_ADAM if est.solver == "adam" else SOLVER_SGD
    hp = hyperparameters(est)
    sqnorm = optimizers.squared_norm(theta[: layout.n_coef])
    # One line before the wait when train_epoch will compile (its arguments below).
    notify_kernels("training", train_epoch, (theta, opt.moments, ws.buffers, X_train,
                   Y_train, sw, sample_idx, ws.table, codes, hp, batch_size, opt.t,
                   sqnorm), dtype, sp.issparse(X), est.verbose)  # fmt: skip
    # partial_fit trains one epoch per call: scikit-learn's line, never a bar.
    progress = Progress(bool(est.verbose) if incremental else est.verbose, est.max_iter)

    # closing(progress): the tqdm bar is closed on every exit, errors included.
    with deferred_interrupt() as interrupt, closing(progress):
        est.n_iter_ = 0
        for _ in range(est.max_iter):
            if interrupt.requested:
                break
            if est.shuffle:
                sample_idx = sk_shuffle(sample_idx, random_state=rs)
            hp[H_LR] = opt.learning_rate
            accumulated, opt.t, sqnorm, diverged = train_epoch(
                theta,
                opt.moments,
                ws.buffers,
                X_train,
                Y_train,
                sw,
                sample_idx,
                ws.table,
                codes,
                hp,
                batch_size,
                opt.t,
                sqnorm,
            )
            if diverged >= 0 and not early_stopping:
                # Stopped inside the epoch, right after the batch whose loss or
                # weights went non-finite; the estimator restores its previous
                # state (BaseMLP._fit).
                raise ValueError(DIVERGED_MESSAGE)
            est.n_iter_ += 1
            est.loss_ = np.float64(accumulated / n_samples)
            est.t_ += n_samples
            est.loss_curve_.append(est.loss_)
            progress.epoch(est.n_iter_, est.loss_)

            if early_stopping:
                est._set_weights(theta, layout)
            _update_no_improvement_count(
                est, early_stopping, X_val, y_val, sw_val, progress
            )
            opt.iteration_ends(est.t_)

            if diverged >= 0:
                # With early stopping scikit-learn trains on with non-finite
                # weights until max_iter, then restores the best weights
                # (gh-29504). The diverged epoch is recorded as it would be (its
                # loss and validation score are not finite) and training stops
                # here, with the same best weights.
                warnings.warn(
                    "Training diverged (non-finite loss or weights) in iteration"
                    " %d; stopping, with the best weights found by early "
                    "stopping." % est.n_iter_,
                    ConvergenceWarning,
                )
                break

            if est._no_improvement_count > est.n_iter_no_change:
                if early_stopping:
                    msg = (
                        "Validation score did not improve more than "
                        "tol=%f for %d consecutive epochs."
                        % (est.tol, est.n_iter_no_change)
                    )
                else:
                    msg = (
                        "Training loss did not improve more than tol=%f"
                        " for %d consecutive epochs." % (est.tol, est.n_iter_no_change)
                    )
                if opt.trigger_stopping(msg, progress.say):
                    break
                est._no_improvement_count = 0

            if incremental:
                break

            if est.n_iter_ == est.max_iter:
                warnings.warn(
                    "Stochastic Optimizer: Maximum iterations (%d) "
                    "reached and the optimization hasn't converged yet." % est.max_iter,
                    ConvergenceWarning,
                )
        if interrupt.requested:
            # scikit-learn's reaction: warn and keep the model trained so far,
            # here exactly the last completed epoch.
            warnings.warn("Training interrupted by user.")

    if early_stopping:
        est.coefs_ = est._best_coefs
        est.intercepts_ = est._best_intercepts
    else:
        est._set_weights(theta, layout)


def _update_no_improvement_count(est, early_stopping, X_val, y_val, sw_val, progress):
    if early_stopping:
        val_score = est._score(X_val, y_val, sample_weight=sw_val)
        est.validation_scores_.append(val_score)
        progress.validation(est.validation_scores_[-1])
        last_valid_score = est.validation_scores_[-1]
        if last_valid_score < (est.best_validation_score_ + est.tol):
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if last_valid_score > est.best_validation_score_:
            est.best_validation_score_ = last_valid_score
            est._best_coefs = [c.copy() for c in est.coefs_]
            est._best_intercepts = [i.copy() for i in est.intercepts_]
    else:
        if est.loss_curve_[-1] > est.best_loss_ - est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if est.loss_curve_[-1] < est.best_loss_:
            est.best_loss_ = est.loss_curve_[-1]


def lbfgs_objective(layout, X, Y, sample_weight, codes, alpha, loss_name, dtype):
    """``fun(theta) -> (loss, gradient)`` of the full-batch objective, as
    ``scipy.optimize.minimize(jac=True)`` takes it: one compiled forward/backward
    call per evaluation, then the L2 term and the normalisation in NumPy.

    Unlike scikit-learn (#8349), the gradient of the multi-output squared error is
    that of the reported loss (averaged over outputs), so the line search sees a
    consistent objective."""
    n_samples = X.shape[0]
    dense = not sp.issparse(X)
    Xk = kernel_input(X, dtype)
    if not dense:  # the full batch: every row, in order
        Xk = CSRRows(Xk.data, Xk.indices, Xk.indptr, np.arange(n_samples))
    Y, sw = kernel_targets(Y, sample_weight, dtype)
    sw_sum = float(n_samples) if sample_weight is None else float(sw.sum())
    ws = Workspace(layout, n_samples, X.shape[1], Y.shape[1], dtype, dense_input=dense)
    parallel = use_parallel(n_samples, layout.n_coef)
    n_coef = layout.n_coef
    alpha = float(alpha)
    # The kernels' output delta P - Y is the gradient of the *sum* over outputs of
    # the half squared error; the reported loss averages over outputs.
    output_scale = 1.0 / Y.shape[1] if loss_name == "squared_error" else 1.0

    def loss_grad(params):
        notify_kernels("lbfgs", forward_backward, (ws.G[0], ws.acts[0], ws.deltas[0],
                       ws.work[0], Xk, Y, sw, params, ws.table, codes[0], codes[1],
                       codes[2], parallel), dtype, not dense)  # fmt: skip
        loss_sum = forward_backward(
            ws.G[0],
            ws.acts[0],
            ws.deltas[0],
            ws.work[0],
            Xk,
            Y,
            sw,
            params,
            ws.table,
            codes[0],
            codes[1],
            codes[2],
            parallel,
        )
        coefs = params[:n_coef]
        loss = loss_sum / sw_sum + 0.5 * alpha * float(coefs @ coefs) / sw_sum
        grad = ws.G[0].copy()
        grad *= output_scale
        grad[:n_coef] += alpha * coefs
        grad /= sw_sum
        return loss, grad

    return loss_grad


def fit_lbfgs(est, theta, layout, X, Y, sample_weight, codes):
    """Full-batch L-BFGS-B (SciPy) on theta (float64), in place."""
    loss_grad = lbfgs_objective(
        layout, X, Y, sample_weight, codes, est.alpha, est._loss_name(), theta.dtype
    )
    if est.verbose is True or est.verbose >= 1:
        iprint = 1
    else:
        iprint = -1
    options = {"maxfun": est.max_fun, "maxiter": est.max_iter, "gtol": est.tol}
    if tuple(int(p) for p in scipy.__version__.split(".")[:2]) < (1, 15):
        options["iprint"] = iprint
    opt_res = scipy.optimize.minimize(
        loss_grad, theta, method="L-BFGS-B", jac=True, options=options
    )
    est.n_iter_ = _check_optimize_result("lbfgs", opt_res, est.max_iter)
    est.loss_ = opt_res.fun
    theta[:] = opt_res.x
    est._set_weights(theta, layout)


def predict_raw(theta, layout, X, codes, dtype):
    """Network output for X (dense or sparse, any row count) in blocks of rows."""
    n = X.shape[0]
    dense = not sp.issparse(X)
    rows = max(1, min(PREDICT_BLOCK_ROWS, n))
    ws = Workspace(
        layout, rows, X.shape[1], layout.layer_units[-1], dtype, dense_input=dense
    )
    out = np.empty((n, layout.layer_units[-1]), dtype=dtype)
    parallel = use_parallel(rows, layout.n_coef)
    Xk, rows_idx = kernel_input(X, dtype), np.arange(n)
    notify_kernels("prediction", predict_blocks, (out, ws.acts[0], ws.xb, ws.work[0],
                   Xk, rows_idx, rows, theta, ws.table, codes[0], codes[1],
                   parallel), dtype, not dense)  # fmt: skip
    predict_blocks(
        out,
        ws.acts[0],
        ws.xb,
        ws.work[0],
        Xk,
        rows_idx,
        rows,
        theta,
        ws.table,
        codes[0],
        codes[1],
        parallel,
    )
    return out


def jacobian_raw(theta, layout, X, codes, dtype):
    """d network output / d input for X (dense or sparse, any row count), shape
    (n_samples, n_outputs, n_features), by the compiled batched reverse pass."""
    n, n_features = X.shape
    units = layout.layer_units
    n_out = units[-1]
    dense = not sp.issparse(X)
    rows = max(1, min(n, JACOBIAN_BLOCK_ROWS // n_out))
    ws = Workspace(layout, rows, n_features, n_out, dtype, dense_input=dense)
    need = gemm_work_elements(units, rows, dense)
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        need = max(need, gemm.gemm_work_size(n_out * rows, fan_in, fan_out))
    work = np.empty(need, dtype=dtype)
    D0 = np.empty(n_out * rows * max(units), dtype=dtype)
    D1 = np.empty_like(D0)
    J = np.empty((n, n_out, n_features), dtype=dtype)
    Xk, rows_idx = kernel_input(X, dtype), np.arange(n)
    parallel = use_parallel(n_out * rows, layout.n_coef)
    notify_kernels("jacobian", input_jacobian, (J, ws.acts[0], work, D0, D1, ws.xb,
                   Xk, rows_idx, rows, theta, ws.table, codes[0], codes[1],
                   parallel), dtype, not dense)  # fmt: skip
    input_jacobian(
        J,
        ws.acts[0],
        work,
        D0,
        D1,
        ws.xb,
        Xk,
        rows_idx,
        rows,
        theta,
        ws.table,
        codes[0],
        codes[1],
        parallel,
    )
    return J
