"""Solvers: sgd/adam as a few compiled ``train_epochs`` calls of many epochs
each, and L-BFGS through ``scipy.optimize.minimize`` on the flat parameter buffer.

The epochs and their bookkeeping follow scikit-learn's
``BaseMultilayerPerceptron._fit_stochastic`` step by step (shuffling from the same
RandomState stream, loss bookkeeping, the no-improvement counter, learning-rate
schedules, early stopping), in compiled code (network.train_epochs, epochs.py);
Python hands the RandomState's MT19937 state to the shuffle, replays each call's
epochs into the estimator's attributes and progress lines, and warns, so that
the same ``random_state`` gives the same model.
"""

import signal
import threading
import time
import warnings
from contextlib import closing, contextmanager

import numba
import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.optimize import _check_optimize_result

from ._callbacks import hooks_of
from ._kernels import epochs as E
from ._kernels import gemm, optimizers, team
from ._kernels.indirect import kernel_address
from ._kernels.jacobian import input_jacobian, jacobian_block
from ._kernels.network import (
    C_ALWAYS_LAYERED,
    C_CHUNK_ROWS,
    C_EARLY_STOP,
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
    MODE_PREDICT,
    MODE_TRAIN,
    S_LOSS,
    run_task,
    train_epochs,
)
from ._kernels.optimizers import (
    H_ALPHA,
    H_BETA_1,
    H_BETA_2,
    H_EPSILON,
    H_LOSS_PARAM,
    H_LR,
    H_MAX_GRAD_NORM,
    H_MOMENTUM,
    H_NESTEROV,
    H_TOTAL_STEPS,
    H_WARMUP_STEPS,
    H_WEIGHT_DECAY,
    N_HP,
    SHAPE_CONSTANT,
    SHAPE_COSINE,
    SHAPE_LINEAR,
    SOLVER_ADAM,
    SOLVER_NONE,
    SOLVER_SGD,
)
from ._kernels.sparse import CSRMatrix
from ._notice import call_key, notify_kernels
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


def team_size():
    """Threads in the calling fit's team (network.train_epochs): Numba's thread
    count as numba_threads set it, or 1 where no parallel region may run."""
    return numba.get_num_threads() if parallel_allowed() else 1


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


def _read_only(a):
    """A read-only view of ``a``: the kernels always see read-only inputs, so a
    user's read-only array and a writable one share one compiled kernel."""
    view = a.view()
    view.flags.writeable = False
    return view


def kernel_input(X, dtype, like=None):
    """X as the kernels take it: a read-only C-contiguous array of ``dtype``, or
    for sparse X a CSRMatrix of read-only CSR arrays (CSC and other formats are
    converted to CSR, which copies the nonzeros but never densifies).

    ``like``: another kernel input (the training rows) that X must share a type
    with (a validation set, read by the same code): X is then densified or made
    sparse to match, with the same index type."""
    if like is not None:
        if isinstance(like, CSRMatrix):
            X = sp.csr_matrix(X)
        elif sp.issparse(X):
            X = X.toarray()
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=dtype)
        # int32 indices whenever they fit (scipy's usual choice; a sparse array
        # may carry int64 ones), so both kinds share one compiled kernel.
        index = np.int32 if max(X.nnz, X.shape[1]) < 2**31 else np.int64
        if like is not None:
            index = like.indices.dtype
        return CSRMatrix(
            _read_only(np.ascontiguousarray(X.data)),
            _read_only(np.ascontiguousarray(X.indices, dtype=index)),
            _read_only(np.ascontiguousarray(X.indptr, dtype=index)),
        )
    return _read_only(np.ascontiguousarray(X, dtype=dtype))


def _writable(a, dtype):
    a = np.ascontiguousarray(a, dtype=dtype)
    return a if a.flags.writeable else a.copy()


def kernel_targets(Y, sample_weight, dtype):
    """Y and the sample weights as the kernels take them: writable C-contiguous
    arrays of ``dtype`` (the kernel's output array in predict mode has Y's
    type); no weights become ones (multiplying by 1 changes no bit)."""
    Y = _writable(Y, dtype)
    if sample_weight is None:
        return Y, np.ones(Y.shape[0], dtype=dtype)
    return Y, _writable(sample_weight, dtype)


def no_validation(X, Y, sw, order):
    """train_epochs's (best, X_val, Y_val, sw_val, P_val, order_val) when
    nothing is validated: never read, only their types matter (those of a fit
    with early stopping, so both share one compiled kernel)."""
    return (np.zeros(0, dtype=Y.dtype), X, Y, sw, Y, order)


class OnePass:
    """The epoch-loop arguments of a one-pass train_epochs call (prediction,
    L-BFGS's gradient): one epoch, no shuffle, no validation. The arrays only
    have the types of a fit's, so every mode shares one compiled kernel."""

    def __init__(self, X, Y, sw, order):
        self.fit = np.zeros(E.N_FIT)
        self.fit[E.F_EPOCHS] = self.fit[E.F_MAX_ITER] = 1
        self.curve = np.zeros((1, E.N_CURVE))
        self.mt_key = np.zeros(0, dtype=np.uint32)
        self.validation = no_validation(X, Y, sw, order)
        self.args = (self.fit, self.curve, self.mt_key, self.validation)


def run_epochs(theta, opt, buffers, X, Y, sw, order, table, codes, hp, batch_size,
               fit, curve, mt_key, validation, task):  # fmt: skip
    """train_epochs with the fit's buffers; ``validation`` is (best, X_val,
    Y_val, sw_val, P_val, order_val), ``task`` from ``task_kernel``. The state
    comes back in ``fit`` (epochs.F_*), ``curve`` and ``hp``."""
    out = train_epochs(
        theta, opt, *buffers, X, Y, sw, order, table, codes, hp, batch_size, fit,
        curve, mt_key, *validation, *task,
    )  # fmt: skip
    if out == -2:  # a programming error, never a user's
        raise RuntimeError("fastmlp: run_task was compiled for other argument types")


# (address, key) of a callee by the fingerprints of its arguments' types: the
# lookup below costs ~0.25 ms per fit (numba.typeof of 26 arguments, the
# dispatcher's compile lock), 13% of a one-epoch iris fit.
_addresses = {}


def announced_address(kind, callee, callee_args, caller, caller_args, dtype, sparse,
                      verbose=False):  # fmt: skip
    """(address, key) of ``callee`` compiled for the types of ``callee_args``,
    the Python values of the call its parallel ``caller`` makes by address
    (indirect.py); compiled, or loaded from the cache, on first use.

    Before anything compiles, one notice (``_notice``; ``kind`` a _notice.KINDS
    key) if the callee, or else the caller called with ``caller_args``, will."""
    memo = call_key(callee, callee_args)
    found = _addresses.get(memo) if memo is not None else None
    if found is not None:
        return found
    for kernel, args in ((callee, callee_args), (caller, caller_args)):
        if notify_kernels(kind, kernel, args, dtype, sparse, verbose):
            break
    found = kernel_address(callee, tuple(map(numba.typeof, callee_args)))
    if memo is not None:
        _addresses[memo] = found
    return found


def task_kernel(kind, verbose, theta, opt, buffers, X, Y, sw, idx, table, codes, hp,
                batch_size, fit, curve, mt_key, validation):  # fmt: skip
    """announced_address of ``run_task`` for train_epochs with these arrays (see
    network.run_task). Once per fit (tens of microseconds)."""
    # Python values with the types of the calls: member, first task, end task,
    # lead, then train_epochs's own arguments (without the address and key).
    epoch_args = (theta, opt, *buffers, X, Y, sw, idx, table, codes, hp, batch_size,
                  fit, curve, mt_key, *validation)  # fmt: skip
    task_args = (0, 0, 0, 0, *epoch_args)
    epoch_args = (*epoch_args, 0, 0)
    return announced_address(
        kind, run_task, task_args, train_epochs, epoch_args, theta.dtype,
        isinstance(X, CSRMatrix), verbose,
    )  # fmt: skip


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


# Tests only: run every training batch as layer phases (loop.py), whatever the
# team, to compare them with whole-chunk tasks bit for bit.
ALWAYS_LAYERED = False

# Most scratch elements the layer phases' tiles may add to a fit's buffers
# (a member per tile scratch; 32 MB of float64).
TILE_SCRATCH_ELEMENTS = 1 << 22


class Workspace:
    """Every buffer a batch step touches, allocated once per fit.

    Buffers that a chunk of a split batch writes have a leading axis of n_split
    (G, acts, deltas, work), each chunk sized for ``chunk_rows`` rows; the
    gathered batch (xb, yb, swb) holds ``batch_rows`` rows. ``buffers`` is the
    tuple train_epochs takes: G, acts, deltas, work, sums, xb, yb, swb, ctl. For
    prediction (``gradients=False``) G has no columns."""

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
        gradients=True,
    ):
        batch_rows = chunk_rows if batch_rows is None else batch_rows
        self.n_split, self.chunk_rows = n_split, chunk_rows
        # training saves derivatives (where needed) and applies dropout
        self.table = layout.table(chunk_rows, gradients, gradients, dtype)
        size = layout.activation_size(chunk_rows, gradients, gradients)
        self.acts = np.empty((n_split, size), dtype=dtype)
        self.deltas = np.empty((n_split, size if gradients else 0), dtype=dtype)
        # Dense batches are gathered here; sparse batches are read in place.
        self.xb = np.empty((batch_rows if dense_input else 0, n_features), dtype=dtype)
        self.yb = np.empty((batch_rows if gradients else 0, n_outputs), dtype=dtype)
        self.swb = np.empty(batch_rows if gradients else 0, dtype=dtype)
        self.G = np.empty((n_split, layout.n_params if gradients else 0), dtype=dtype)
        per_set = gemm_work_elements(layout.layer_units, chunk_rows, dense_input)
        # Layer phases (loop.py): a tile is one GEMM panel of columns; each team
        # member's tile scratch is a slice of ``work`` (the chunks' sets are
        # idle then): room for every member, within TILE_SCRATCH_ELEMENTS
        # beyond the chunks' own sets (the kernel uses as many members as fit).
        self.tile_cols = gemm.NR_BYTES // np.dtype(dtype).itemsize if gradients else 0
        self.tile_work = 0
        n_work = n_split
        if gradients:
            units = layout.layer_units
            # a tile's longest reduction: a layer's fan-in (the input's only
            # when dense), fan-out (dU @ W.T) or the chunk's rows (H.T @ dU)
            longest = max(chunk_rows, *units[1:], units[0] if dense_input else 1)
            self.tile_work = gemm.gemm_work_size(chunk_rows, self.tile_cols, longest)
            room = max(n_split * per_set, TILE_SCRATCH_ELEMENTS)
            tile_sets = min(team_size(), room // self.tile_work)
            n_work = max(n_split, -(-tile_sets * self.tile_work // per_set))
        self.work = np.empty((n_work, per_set), dtype=dtype)
        # float64: the step's per-slice squared norms, per-chunk loss and weight sums
        self.sums = np.zeros((3, max(n_split, optimizers.n_chunks(layout.n_params))))
        # the team's and the loop's state: room to split a phase into a few
        # units per thread (every chunk, or slices of the step)
        units = team.UNITS_PER_MEMBER * numba.config.NUMBA_NUM_THREADS
        self.ctl = np.zeros(team.ctl_size(max(n_split, units)), dtype=np.int64)
        self.buffers = (
            self.G,
            self.acts,
            self.deltas,
            self.work,
            self.sums,
            self.xb,
            self.yb,
            self.swb,
            self.ctl,
        )

    @classmethod
    def for_batches(cls, layout, batch_size, X, n_outputs, dtype):
        """Buffers for mini-batches of ``batch_size`` rows of X, each cut into
        row chunks as ``batch_split`` says."""
        n_split, chunk_rows = batch_split(batch_size)
        return cls(
            layout,
            chunk_rows,
            X.shape[1],
            n_outputs,
            dtype,
            dense_input=not sp.issparse(X),
            n_split=n_split,
            batch_rows=batch_size,
        )


class OptimizerState:
    """SGD velocity or Adam moments, kept across ``partial_fit`` calls.

    Mirrors scikit-learn's ``SGDOptimizer``/``AdamOptimizer``: ``learning_rate`` is
    the current (schedule-adjusted) rate, ``t`` Adam's update count. The
    schedules themselves run in compiled code (epochs.end_epoch)."""

    def __init__(self, solver, n_params, dtype, est):
        self.solver = solver
        self.learning_rate_init = float(est.learning_rate_init)
        self.learning_rate = float(est.learning_rate_init)
        self.lr_schedule = est.learning_rate  # for to_sklearn's optimizer
        self.power_t = est.power_t
        self.t = 0
        self.steps = 0  # steps taken (the learning rate's shape, lr_schedule)
        self.moments = np.zeros((2, n_params), dtype=dtype)


class ShuffleState:
    """The estimator's RandomState as the compiled shuffle draws from it
    (shuffle.py): its MT19937 key (a writable copy the kernel advances) and
    position, read once per fit; ``store`` writes the advanced state back after
    each call, so later epochs, fits and ``partial_fit`` calls continue
    scikit-learn's stream. Row counts are below 2**32, for which NumPy's shuffle
    draws 32-bit words."""

    def __init__(self, rs):
        name, key, pos, has_gauss, gauss = rs.get_state(legacy=True)
        self.rs, self.name, self.gauss = rs, name, (has_gauss, gauss)
        self.key = np.array(key, dtype=np.uint32)
        self.pos = int(pos)

    def store(self, pos):
        self.pos = int(pos)
        self.rs.set_state((self.name, self.key, self.pos, *self.gauss))


# Epochs per compiled call: the first call runs one; later ones as many as take
# about BLOCK_SECONDS (at most MAX_BLOCK_EPOCHS), so Python runs a few times per
# fit, and Ctrl-C, seen between calls, still stops a fit within a fraction of a
# second. Results never depend on the blocking.
BLOCK_SECONDS = 0.02
MAX_BLOCK_EPOCHS = 1024


def _stop_message(est, early_stopping):
    """scikit-learn's no-improvement message (built only when it is said:
    n_iter_no_change may be inf, which %d cannot format)."""
    what = "Validation score" if early_stopping else "Training loss"
    return "%s did not improve more than tol=%f for %d consecutive epochs." % (
        what,
        est.tol,
        est.n_iter_no_change,
    )


def hyperparameters(est):
    hp = np.zeros(N_HP)
    hp[H_LR] = est.learning_rate_init
    hp[H_MOMENTUM] = est.momentum
    hp[H_NESTEROV] = float(bool(est.nesterovs_momentum))
    hp[H_BETA_1] = est.beta_1
    hp[H_BETA_2] = est.beta_2
    hp[H_EPSILON] = est.epsilon
    hp[H_ALPHA] = est.alpha
    hp[H_LOSS_PARAM] = est._loss_param()
    hp[H_WEIGHT_DECAY] = est.weight_decay or 0.0
    hp[H_MAX_GRAD_NORM] = est.max_grad_norm or 0.0
    return hp


_SHAPES = {None: SHAPE_CONSTANT, "cosine": SHAPE_COSINE, "linear": SHAPE_LINEAR}


def lr_shape(est, hp, steps_per_epoch):
    """The learning rate's shape (codes[C_LR_SHAPE]) with its steps in all,
    T = max_iter x steps per epoch (of a partial_fit call: its batches), and
    warm-up steps W = round(warmup x T), into hp (optimizers.lr_factor)."""
    total = est.max_iter * steps_per_epoch
    hp[H_TOTAL_STEPS] = total
    hp[H_WARMUP_STEPS] = round((est.warmup or 0.0) * total)
    return _SHAPES[est.lr_schedule]


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


def fit_stochastic(est, theta, layout, X, Y, sample_weight, codes, incremental,
                   val=None, scorer=None, given=None):  # fmt: skip
    """Train ``theta`` in place with sgd/adam; sets the estimator's bookkeeping
    attributes exactly as scikit-learn's ``_fit_stochastic`` does.

    X (n, n_features) and Y (n, n_outputs) share theta's dtype; ``sample_weight``
    is an array of that dtype or None. The epochs and their bookkeeping run in
    compiled calls of several epochs (train_epochs, epochs.py); after each call
    the epochs it ran are replayed into the estimator's attributes, the
    progress lines and the messages, in scikit-learn's order.

    ``val``: a given validation set (X_val, Y_val, sample weights, X_val and
    y_val as given; BaseMLP._validation_set), scored after each epoch, and
    early stopping's instead of a split. ``scorer``: scikit-learn's scorer of
    the validation set (scoring a str or callable; None: compiled scores);
    it scores the estimator, with theta's weights, on the data as given, so
    the fit runs one epoch per compiled call; ``given`` is (X, y) as given,
    which early stopping's split then also splits."""
    dtype = theta.dtype
    if not incremental or not hasattr(est, "_optimizer"):
        est._optimizer = OptimizerState(est.solver, layout.n_params, dtype, est)
    opt = est._optimizer

    if est.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    early_stopping = est.early_stopping
    rs = est._random_state
    validating = early_stopping or val is not None
    scored_given = None  # (X_val, y_val, weights) as given, for ``scorer``
    if early_stopping and val is None:
        should_stratify = is_classifier(est) and est.n_outputs_ == 1
        stratify = Y if should_stratify else None
        arrays = [X, Y] if sample_weight is None else [X, Y, sample_weight]
        if scorer is not None:  # the same split (drawn from n and stratify)
            arrays += list(given)
        parts = train_test_split(
            *arrays,
            random_state=rs,
            test_size=est.validation_fraction,
            stratify=stratify,
        )
        X_train, X_val, Y_train, Y_val = parts[:4]
        sw_train = sw_val = None
        if sample_weight is not None:
            sw_train, sw_val = parts[4:6]
        if scorer is not None:
            scored_given = (parts[-3], parts[-1], sw_val)
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
    else:
        X_train, Y_train, sw_train = X, Y, sample_weight
        if val is not None:
            X_val, Y_val, sw_val = val[:3]
            scored_given = (val[3], val[4], sw_val)
    if validating and est.validation_scores_ is None:  # a given set's scores
        est.validation_scores_ = []
        est.best_validation_score_ = -np.inf

    n_samples = X_train.shape[0]
    order = np.arange(n_samples, dtype=np.int64)
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
    if validating:
        Y_val, sw_val = kernel_targets(Y_val, sw_val, dtype)
        if early_stopping:
            best = layout.pack(est._best_coefs, est._best_intercepts, dtype)
        else:
            best = np.zeros(0, dtype=dtype)
        validation = (best, kernel_input(X_val, dtype, like=X_train), Y_val, sw_val,
                      np.empty_like(Y_val), np.arange(Y_val.shape[0]))  # fmt: skip
    else:
        validation = no_validation(X_train, Y_train, sw, order)

    ws = Workspace.for_batches(layout, batch_size, X, Y.shape[1], dtype)
    codes = training_codes(codes, est, layout, ws, validating, scorer is not None)
    hp = hyperparameters(est)
    hp[H_LR] = opt.learning_rate
    codes[C_LR_SHAPE] = lr_shape(est, hp, -(-n_samples // batch_size))
    fit = np.zeros(E.N_FIT)
    fit[E.F_T] = opt.t
    fit[E.F_STEPS] = getattr(opt, "steps", 0)  # (0 in a model pickled before it)
    fit[E.F_SQNORM] = -1.0  # computed on the first call
    fit[E.F_MAX_ITER] = est.max_iter
    fit[E.F_BEST_LOSS] = np.nan if early_stopping else est.best_loss_
    fit[E.F_BEST_SCORE] = est.best_validation_score_ if validating else np.nan
    fit[E.F_NO_IMPROVE] = est._no_improvement_count
    fit[E.F_TOL] = est.tol
    fit[E.F_N_ITER_NO_CHANGE] = est.n_iter_no_change
    curve = np.empty((1 if incremental else min(est.max_iter, MAX_BLOCK_EPOCHS),
                      E.N_CURVE))  # fmt: skip
    shuffle = ShuffleState(rs) if est.shuffle else None
    mt_key = np.zeros(0, dtype=np.uint32) if shuffle is None else shuffle.key
    fit[E.F_MT_POS] = 0 if shuffle is None else shuffle.pos  # advanced by each call
    fit[E.F_SEEN] = est.t_  # keys the epochs' dropout masks
    # partial_fit trains one epoch per call: scikit-learn's line, never a bar.
    progress = Progress(bool(est.verbose) if incremental else est.verbose, est.max_iter)

    task = task_kernel(
        "training", est.verbose, theta, opt.moments, ws.buffers, X_train, Y_train,
        sw, order, ws.table, codes, hp, batch_size, fit, curve, mt_key, validation,
    )  # fmt: skip
    # closing(progress): the tqdm bar is closed on every exit, errors included.
    with deferred_interrupt() as interrupt, closing(progress):
        est.n_iter_ = 0
        block = 1
        status = E.ST_RUNNING
        hooks = hooks_of(est)  # scikit-learn's callbacks (_callbacks.py), or no-ops
        while status == E.ST_RUNNING and not interrupt.requested:
            block = min(block, est.max_iter - est.n_iter_, curve.shape[0])
            block = min(block, hooks.max_block)  # callbacks: one epoch per call
            fit[E.F_EPOCHS] = block
            if codes[C_SCHEDULE] == E.LR_INVSCALING:  # scikit-learn's arithmetic
                for e in range(block):
                    t_end = est.t_ + (e + 1) * n_samples
                    curve[e, E.C_LR] = (
                        est.learning_rate_init / (t_end + 1) ** est.power_t
                    )
            hooks.epoch_begin(theta, layout)
            start = time.perf_counter()
            run_epochs(
                theta, opt.moments, ws.buffers, X_train, Y_train, sw, order,
                ws.table, codes, hp, batch_size, fit, curve, mt_key, validation, task,
            )  # fmt: skip
            elapsed = time.perf_counter() - start
            if shuffle is not None:
                shuffle.store(fit[E.F_MT_POS])
            status = int(fit[E.F_STATUS])
            if status == E.ST_DIVERGED and not early_stopping:
                # Stopped inside the epoch, right after the batch whose loss or
                # weights went non-finite; the estimator restores its previous
                # state (BaseMLP._fit).
                raise ValueError(DIVERGED_MESSAGE)
            if status == E.ST_SCORE_PENDING or (scorer and fit[E.F_DONE] > 0):
                status = _score_epoch(
                    est, scorer, scored_given, theta, layout, fit, curve, hp, codes,
                    validation[0], n_samples,
                )  # fmt: skip
            done = int(fit[E.F_DONE])
            _replay(est, curve[:done], n_samples, validating, progress)
            opt.t = int(fit[E.F_T])
            opt.steps = int(fit[E.F_STEPS])
            opt.learning_rate = float(hp[H_LR])
            if done and scorer is None:  # next: about BLOCK_SECONDS at this pace
                block = int(BLOCK_SECONDS * done / max(elapsed, 1e-9))
                block = max(1, min(MAX_BLOCK_EPOCHS, block))
            if hooks.epoch_end(theta, layout):  # a callback asks to stop here
                break
            if incremental:
                break
        est._no_improvement_count = int(fit[E.F_NO_IMPROVE])
        if validating:
            est.best_validation_score_ = float(fit[E.F_BEST_SCORE])
        if not early_stopping and fit[E.F_BEST_LOSS] != est.best_loss_:
            est.best_loss_ = np.float64(fit[E.F_BEST_LOSS])
        if status == E.ST_DIVERGED:
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
        elif status == E.ST_MAX_ITER and not incremental:
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
        est._best_coefs, est._best_intercepts = layout.unpack(validation[0])
        est.coefs_ = est._best_coefs
        est.intercepts_ = est._best_intercepts
    else:
        est._set_weights(theta, layout)


def _score_epoch(est, scorer, scored, theta, layout, fit, curve, hp, codes, best,
                 n_samples):  # fmt: skip
    """The validation score of a call's one epoch by scikit-learn's ``scorer``
    of the estimator with theta's weights on ``scored`` (X_val, y_val, sample
    weights as given), into curve[0]. With early stopping the kernel left the
    epoch's bookkeeping (epochs.end_epoch) to this function (ST_SCORE_PENDING):
    it runs it, keeping the best weights in ``best``; else the kernel's counter
    watched the training loss and the score is only recorded. Returns the
    call's status."""
    X_val, y_val, sw_val = scored
    est._set_weights(theta, layout)
    if sw_val is None:
        score = float(scorer(est, X_val, y_val))
    else:
        score = float(scorer(est, X_val, y_val, sample_weight=sw_val))
    if int(fit[E.F_STATUS]) != E.ST_SCORE_PENDING:
        curve[0, E.C_SCORE] = score
        if score > fit[E.F_BEST_SCORE]:
            fit[E.F_BEST_SCORE] = score
        return int(fit[E.F_STATUS])
    fit[E.F_STATUS] = E.ST_RUNNING
    adam = int(codes[C_SOLVER]) == SOLVER_ADAM
    lr_next, improved, stop = E.end_epoch(
        fit, curve, 0, fit[E.F_ACCUM], n_samples, score, hp[H_LR], False, True,
        int(codes[C_SCHEDULE]), adam,
    )  # fmt: skip
    if improved:
        best[:] = theta
    hp[H_LR] = lr_next
    fit[E.F_DONE] = 1.0
    return int(fit[E.F_STATUS])


def _replay(est, curve, n_samples, validating, progress):
    """The epochs of one train_epochs call (rows of ``curve``) into the
    estimator's attributes and the progress lines, as scikit-learn's loop
    records each epoch (``validating``: with validation scores)."""
    if not progress.verbose and not validating:  # nothing to print
        losses = list(curve[:, E.C_LOSS])  # np.float64 items, as scikit-learn's
        if losses:
            est.n_iter_ += len(losses)
            est.t_ += n_samples * len(losses)
            est.loss_ = losses[-1]
            est.loss_curve_.extend(losses)
        return
    for loss, score, event, lr in curve:
        est.n_iter_ += 1
        est.loss_ = np.float64(loss)
        est.t_ += n_samples
        est.loss_curve_.append(est.loss_)
        progress.epoch(est.n_iter_, est.loss_)
        if validating:
            est.validation_scores_.append(float(score))
            progress.validation(est.validation_scores_[-1])
        if event == E.EV_STOP:
            progress.say(_stop_message(est, est.early_stopping) + " Stopping.")
        elif event == E.EV_STOP_LR_TOO_SMALL:
            msg = _stop_message(est, est.early_stopping)
            progress.say(msg + " Learning rate too small. Stopping.")
        elif event == E.EV_LR_REDUCED:
            msg = _stop_message(est, est.early_stopping)
            progress.say(msg + " Setting learning rate to %f" % lr)


def training_codes(codes, est, layout, ws, validating, external=False):
    """The kernel codes of a stochastic fit: solver, schedule, scoring (a
    validation set's score, ``validating``; ``external``: a scorer's, computed
    between calls), shuffle, and how the batch runs (chunk rows; which phases
    run in parallel)."""
    codes = codes.copy()
    parallel_ok = parallel_allowed()
    # A split batch's chunks run in parallel (a single chunk never opens a region).
    codes[C_PARALLEL] = int(parallel_ok)
    # With a split batch the step runs in parallel too, so no long serial stretch
    # lets the thread pool fall asleep between batches (waking it costs more than
    # the step on small nets: measured 190 vs 100 us per W1 step).
    codes[C_STEP_PARALLEL] = int(
        parallel_ok and (ws.n_split > 1 or layout.n_params >= STEP_PARALLEL_MIN_PARAMS)
    )
    codes[C_CHUNK_ROWS] = ws.chunk_rows
    codes[C_TILE_COLS] = ws.tile_cols
    codes[C_TILE_WORK] = ws.tile_work
    codes[C_ALWAYS_LAYERED] = int(ALWAYS_LAYERED)
    codes[C_TEAM] = team_size()
    codes[C_MODE] = MODE_TRAIN
    codes[C_SOLVER] = SOLVER_ADAM if est.solver == "adam" else SOLVER_SGD
    schedule = {"invscaling": E.LR_INVSCALING, "adaptive": E.LR_ADAPTIVE}
    if est.solver == "sgd":
        codes[C_SCHEDULE] = schedule.get(est.learning_rate, E.LR_CONSTANT)
    else:
        codes[C_SCHEDULE] = E.LR_CONSTANT
    codes[C_EARLY_STOP] = int(bool(est.early_stopping))
    if not validating:
        codes[C_SCORING] = E.SCORE_TRAINING_LOSS
    elif external:  # early stopping's bookkeeping waits for the scorer
        codes[C_SCORING] = E.SCORE_EXTERNAL if est.early_stopping else (
            E.SCORE_TRAINING_LOSS
        )  # fmt: skip
    elif est.scoring == "loss":
        codes[C_SCORING] = E.SCORE_LOSS
    else:
        codes[C_SCORING] = est._validation_scoring()
    codes[C_SHUFFLE] = int(bool(est.shuffle))
    return codes


def lbfgs_objective(layout, X, Y, sample_weight, codes, alpha, loss_name, dtype,
                    loss_param=0.0):  # fmt: skip
    """``fun(theta) -> (loss, gradient)`` of the full-batch objective, as
    ``scipy.optimize.minimize(jac=True)`` takes it: one compiled train_epochs call
    per evaluation with solver SOLVER_NONE (the batch's row chunks forward and
    backward in parallel, their gradients summed into G[0], no step), then the
    L2 term and the normalisation in NumPy.

    Unlike scikit-learn (#8349), the gradient of the multi-output squared error is
    that of the reported loss (averaged over outputs), so the line search sees a
    consistent objective."""
    n_samples = X.shape[0]
    Xk = kernel_input(X, dtype)
    Y, sw = kernel_targets(Y, sample_weight, dtype)
    sw_sum = float(n_samples) if sample_weight is None else float(sw.sum())
    ws = Workspace.for_batches(layout, n_samples, X, Y.shape[1], dtype)
    chunk_rows = ws.chunk_rows
    n_parts = -(-n_samples // chunk_rows)
    codes = codes.copy()
    codes[C_PARALLEL] = int(use_parallel(n_samples, layout.n_coef))
    codes[C_STEP_PARALLEL] = int(
        codes[C_PARALLEL] and layout.n_params >= STEP_PARALLEL_MIN_PARAMS
    )
    codes[C_CHUNK_ROWS] = chunk_rows
    codes[C_TILE_COLS] = ws.tile_cols
    codes[C_TILE_WORK] = ws.tile_work
    codes[C_ALWAYS_LAYERED] = int(ALWAYS_LAYERED)
    codes[C_TEAM] = team_size()
    codes[C_MODE] = MODE_TRAIN
    codes[C_SOLVER] = SOLVER_NONE
    hp = np.zeros(N_HP)
    hp[H_LOSS_PARAM] = loss_param
    idx = np.arange(n_samples)
    opt = np.empty((2, 0), dtype=dtype)
    one_pass = OnePass(Xk, Y, sw, idx)
    n_coef = layout.n_coef
    alpha = float(alpha)
    # The kernels' output delta P - Y is the gradient of the *sum* over outputs of
    # the half squared error; the reported loss averages over outputs (the
    # other losses' deltas are their loss's gradients already, losses.py).
    output_scale = 1.0 / Y.shape[1] if loss_name == "squared_error" else 1.0

    task = None

    def loss_grad(params):
        nonlocal task
        params = _writable(params, np.float64)
        if task is None:
            task = task_kernel(
                "lbfgs", False, params, opt, ws.buffers, Xk, Y, sw, idx, ws.table,
                codes, hp, n_samples, *one_pass.args,
            )  # fmt: skip
        run_epochs(
            params, opt, ws.buffers, Xk, Y, sw, idx, ws.table, codes, hp, n_samples,
            *one_pass.args, task,
        )  # fmt: skip
        loss_sum = 0.0
        for c in range(n_parts):  # chunk order, as the kernel merges them
            loss_sum += ws.sums[S_LOSS, c]
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
        layout, X, Y, sample_weight, codes, est.alpha, est._loss_name(), theta.dtype,
        est._loss_param(),
    )  # fmt: skip
    if est.verbose is True or est.verbose >= 1:
        iprint = 1
    else:
        iprint = -1
    options = {"maxfun": est.max_fun, "maxiter": est.max_iter, "gtol": est.tol}
    if tuple(int(p) for p in scipy.__version__.split(".")[:2]) < (1, 15):
        options["iprint"] = iprint
    hooks = hooks_of(est)  # scikit-learn's callbacks (_callbacks.py), or no-ops
    opt_res = scipy.optimize.minimize(
        loss_grad, theta, method="L-BFGS-B", jac=True, options=options,
        callback=hooks.lbfgs_callback(theta, layout),  # None without callbacks
    )  # fmt: skip
    hooks.lbfgs_close()
    if hooks.stopped:  # a callback's request, not a failure to converge
        est.n_iter_ = min(opt_res.nit, est.max_iter)
    else:
        est.n_iter_ = _check_optimize_result("lbfgs", opt_res, est.max_iter)
    est.loss_ = opt_res.fun
    theta[:] = opt_res.x
    est._set_weights(theta, layout)


def _task_groups(n_blocks):
    """Buffer sets for prediction and the Jacobian, whose row blocks are
    independent (the result does not depend on this): one per thread that can
    run, at most MAX_SPLIT."""
    if not parallel_allowed():
        return 1
    return max(1, min(numba.get_num_threads(), n_blocks, MAX_SPLIT))


def predict_raw(theta, layout, X, codes, dtype):
    """Network output for X (dense or sparse, any row count): train_epochs in
    MODE_PREDICT, blocks of PREDICT_BLOCK_ROWS rows as the tasks of phase 0."""
    n = X.shape[0]
    dense = not sp.issparse(X)
    rows = max(1, min(PREDICT_BLOCK_ROWS, n))
    n_out = layout.layer_units[-1]
    parallel = use_parallel(rows, layout.n_coef)
    n_split = _task_groups(-(-n // rows)) if parallel else 1
    ws = Workspace(
        layout,
        rows,
        X.shape[1],
        n_out,
        dtype,
        dense_input=dense,
        n_split=n_split,
        batch_rows=n_split * rows,
        gradients=False,
    )
    out = np.empty((n, n_out), dtype=dtype)
    codes = codes.copy()
    codes[C_PARALLEL] = int(parallel)
    codes[C_STEP_PARALLEL] = 0
    codes[C_CHUNK_ROWS] = rows
    codes[C_TEAM] = team_size()
    codes[C_MODE] = MODE_PREDICT
    opt = np.empty((2, 0), dtype=dtype)
    Xk = kernel_input(X, dtype)
    sw = np.ones(0, dtype=dtype)
    idx = np.arange(n)
    hp = np.zeros(N_HP)
    one_pass = OnePass(Xk, out, sw, idx)
    task = task_kernel(
        "prediction", False, theta, opt, ws.buffers, Xk, out, sw, idx, ws.table,
        codes, hp, n_split * rows, *one_pass.args,
    )  # fmt: skip
    run_epochs(
        theta, opt, ws.buffers, Xk, out, sw, idx, ws.table, codes, hp,
        n_split * rows, *one_pass.args, task,
    )  # fmt: skip
    return out


def jacobian_raw(theta, layout, X, codes, dtype):
    """d network output / d input for X (dense or sparse, any row count), shape
    (n_samples, n_outputs, n_features), by the compiled batched reverse pass."""
    n, n_features = X.shape
    units = layout.layer_units
    n_out = units[-1]
    dense = not sp.issparse(X)
    rows = max(1, min(n, JACOBIAN_BLOCK_ROWS // n_out))
    parallel = use_parallel(n_out * rows, layout.n_coef)
    groups = _task_groups(-(-n // rows)) if parallel else 1
    table = layout.table(rows, derivatives=True, dtype=dtype)
    acts = np.empty((groups, layout.activation_size(rows, True)), dtype=dtype)
    need = gemm_work_elements(units, rows, dense)
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        need = max(need, gemm.gemm_work_size(n_out * rows, fan_in, fan_out))
    work = np.empty((groups, need), dtype=dtype)
    D0 = np.empty((groups, n_out * rows * max(units)), dtype=dtype)
    D1 = np.empty_like(D0)
    xb = np.empty((groups, rows if dense else 0, n_features), dtype=dtype)
    J = np.empty((n, n_out, n_features), dtype=dtype)
    Xk = kernel_input(X, dtype)
    idx = np.arange(n)
    out = codes[C_OUT]
    block_args = (J, acts[0], work[0], D0[0], D1[0], xb[0], Xk, idx, 0, 0, theta,
                  table, out)  # fmt: skip
    jac_args = (J, acts, work, D0, D1, xb, Xk, idx, rows, theta, table, out,
                parallel, 0, 0)  # fmt: skip
    block = announced_address(
        "jacobian", jacobian_block, block_args, input_jacobian, jac_args, dtype,
        not dense,
    )  # fmt: skip
    done = input_jacobian(
        J, acts, work, D0, D1, xb, Xk, idx, rows, theta, table, out, parallel,
        *block,
    )  # fmt: skip
    if not done:  # a programming error, never a user's
        raise RuntimeError("fastmlp: jacobian_block compiled for other argument types")
    return J
