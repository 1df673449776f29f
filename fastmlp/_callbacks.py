"""scikit-learn's callbacks (``sklearn.callback``, scikit-learn >= 1.9).

The estimators take ``CallbackSupportMixin`` from here: scikit-learn's, which
gives them ``set_callbacks``, or before 1.9 an empty stand-in (no
``set_callbacks``, nothing else changes). Each ``fit`` and ``partial_fit`` call
is one root fit task (``fit_task``, ``partial_fit_task``; ``setup`` and
``teardown`` once per call, the teardown by scikit-learn's ``_fit_context``),
as scikit-learn's own callback-enabled estimators do:

- ``fit`` with 'sgd' or 'adam': one subtask per epoch, "epoch", at most
  ``max_iter`` of them. ``on_fit_task_end`` returning True stops training after
  that epoch, with the bookkeeping of a fit that ended there (no convergence
  warning; with early stopping the best weights so far are restored).
- ``fit`` with 'lbfgs': one subtask per L-BFGS iteration, "lbfgs-iter", as
  scikit-learn's LogisticRegression has them (the first begins before the first
  iteration, each iteration's end begins the next, and the one left over when
  SciPy returns ends as an empty task, so at most ``max_iter + 1``). A stop
  request ends the minimisation after that iteration (SciPy's StopIteration).
- ``partial_fit``: the root task only (one epoch on the chunk), as
  StandardScaler's ``partial_fit``.

Hooks get X, y and ``metadata={"sample_weight": ...}`` as passed to the call
(so scorers see what the user passed, feature names included), and at a
subtask's begin and end a ``fitted_estimator``: a copy of the estimator with the
network's weights at that point (``coefs_``, ``intercepts_``, ``n_iter_``,
``loss_``), built only when a callback asks for it, and None when the loss or
the weights are not finite (the epoch that diverged, under early stopping).
With early stopping these are the epoch's own weights, not the best ones (what
the epoch's scores measure). The root task's end gets the fitted estimator
itself.

The solver asks ``hooks_of(est)``: without callbacks the shared no-op
``NO_HOOKS``, so a fit runs exactly as before (blocks of many epochs per
compiled call, the same bits, no Python between epochs). With callbacks each
compiled call runs one epoch; results never depend on the blocking, so the
weights are the same bits either way.
"""

import sys

import numpy as np

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9

    class CallbackSupportMixin:
        """scikit-learn's mixin before 1.9: no callbacks, no ``set_callbacks``."""


# The active fit's hooks, on the estimator for the duration of the call.
_HOOKS = "_callback_hooks"


def is_callback_attr(name):
    """Whether an estimator attribute is callback bookkeeping, which the fit's
    rollback keeps as it is (never copied, never restored): scikit-learn's
    ``_skl_callbacks``, ``_callback_fit_ctx``, ``_skl_callbacks_to_teardown``
    and ``_parent_callback_ctx`` (the teardown after a failed fit needs the
    live ones), and this module's ``_callback_hooks``."""
    return "callback" in name


class _NoHooks:
    """The hooks of a fit without callbacks: nothing to call, no cap on the
    epochs per compiled call, no L-BFGS callback."""

    max_block = sys.maxsize
    stopped = False

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def epoch_begin(self, theta, layout):
        pass

    def epoch_end(self, theta, layout):
        return False

    def lbfgs_callback(self, theta, layout):
        return None

    def lbfgs_close(self):
        pass


NO_HOOKS = _NoHooks()


def hooks_of(est):
    """The hooks the solver calls during est's fit (NO_HOOKS without callbacks)."""
    return est.__dict__.get(_HOOKS, NO_HOOKS)


def fit_task(est, X, y, sample_weight):
    """Context manager around a ``fit`` call: its root task and, through
    ``hooks_of``, its epoch (or L-BFGS iteration) tasks."""
    if not est.__dict__.get("_skl_callbacks"):
        return NO_HOOKS
    if est.solver == "lbfgs":
        # one empty task after the last iteration (see the module docstring)
        max_subtasks = max(est.max_iter, 1) + 1
    else:
        max_subtasks = est.max_iter
    return _FitTask(est, X, y, sample_weight, max_subtasks)


def partial_fit_task(est, X, y, sample_weight):
    """Context manager around a ``partial_fit`` call: its root task only."""
    if not est.__dict__.get("_skl_callbacks"):
        return NO_HOOKS
    return _FitTask(est, X, y, sample_weight, 0)


class _FitTask(_NoHooks):
    """The callback context of one fit or partial_fit call with callbacks."""

    max_block = 1  # one epoch per compiled call: Python runs between epochs

    def __init__(self, est, X, y, sample_weight, max_subtasks):
        self.est = est
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        self.data = {"X": X, "y": y, "metadata": metadata}
        self.max_subtasks = max_subtasks
        self.task = None  # the running subtask's context

    def __enter__(self):
        est = self.est
        self.ctx = est._init_callback_context(max_subtasks=self.max_subtasks)
        self.ctx.call_on_fit_task_begin(estimator=est, **self.data)
        if self.max_subtasks:
            setattr(est, _HOOKS, self)
        return self

    def __exit__(self, exc_type, exc, tb):
        self.est.__dict__.pop(_HOOKS, None)
        if exc_type is None:
            self.ctx.call_on_fit_task_end(
                estimator=self.est, **self.data, reconstruction_attributes={}
            )
        return False

    def _weights(self, theta, layout, **attributes):
        """reconstruction_attributes of the model with weights ``theta``, built
        only if a callback asks for ``fitted_estimator``."""

        def build():
            loss = attributes.get("loss_", 0.0)
            if not (np.isfinite(loss) and np.isfinite(theta).all()):
                return None  # a diverged epoch: no model to evaluate
            coefs, intercepts = layout.unpack(theta)  # copies
            return {"coefs_": coefs, "intercepts_": intercepts, **attributes}

        return build

    def _begin(self, task_name, theta, layout, n_iter):
        self.task = self.ctx.subcontext(task_name=task_name)
        self.task.call_on_fit_task_begin(
            estimator=self.est,
            **self.data,
            reconstruction_attributes=self._weights(theta, layout, n_iter_=n_iter),
        )

    def _end(self, theta, layout, **attributes):
        task, self.task = self.task, None
        return task.call_on_fit_task_end(
            estimator=self.est,
            **self.data,
            reconstruction_attributes=self._weights(theta, layout, **attributes),
        )

    # ---------------------------------------------------------- sgd, adam
    def epoch_begin(self, theta, layout):
        """Before a compiled call of one epoch: that epoch's task begins."""
        self._begin("epoch", theta, layout, self.est.n_iter_)

    def epoch_end(self, theta, layout):
        """After the epoch and its bookkeeping: its task ends. True if a
        callback asks to stop training."""
        est = self.est
        return self._end(theta, layout, n_iter_=est.n_iter_, loss_=est.loss_)

    # -------------------------------------------------------------- lbfgs
    def lbfgs_callback(self, theta, layout):
        """``callback`` for ``scipy.optimize.minimize``; the first iteration's
        task begins now, at the initial weights ``theta``."""
        n_iter = 0
        self._begin("lbfgs-iter", theta, layout, n_iter)

        def callback(intermediate_result):
            nonlocal n_iter
            n_iter += 1
            x, loss = intermediate_result.x, intermediate_result.fun
            if self._end(x, layout, n_iter_=n_iter, loss_=loss):
                self.stopped = True
                raise StopIteration  # SciPy ends the minimisation here
            self._begin("lbfgs-iter", x, layout, n_iter)

        return callback

    def lbfgs_close(self):
        """After SciPy returns: the task begun after the last iteration ends,
        empty (LogisticRegression's convention)."""
        task, self.task = self.task, None
        if task is not None:
            task.call_on_fit_task_end(estimator=self.est)
