"""Divergence and interruption (issue 7.2, 7.3).

Divergence: the compiled epoch stops at the batch whose loss or weights go
non-finite (checked against a NumPy replay of plain SGD), the solver raises
scikit-learn's error, and the estimator keeps its previous state.

Interruption: a SIGINT from a timer thread during a long fit ends it at the last
completed epoch, identical to a fit that ran exactly that many epochs, with
scikit-learn's warning, and with Numba's thread count restored.
"""

import _thread
import copy
import os
import threading
import warnings

import numba
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import fastmlp._solver as solver
from fastmlp import MLPClassifier, MLPRegressor
from fastmlp._kernels import epochs as E
from tests.test_bad_input import assert_state_unchanged

DIVERGED = "Solver produced non-finite parameter weights"


def spy_epochs(monkeypatch):
    """Record how each train_epochs call ends: (status, diverged batch or -1)."""
    returned, kernel = [], solver.run_epochs

    def spy(*args):
        out = kernel(*args)
        fit = args[11]
        diverged = fit[E.F_STATUS] == E.ST_DIVERGED
        returned.append((fit[E.F_STATUS], fit[E.F_DIVERGED_BATCH] if diverged else -1))
        return out

    monkeypatch.setattr(solver, "run_epochs", spy)
    return returned


def linear_problem(n=400):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((n, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    W1 = rng.uniform(-0.5, 0.5, (3, 4))
    b1 = rng.uniform(-0.5, 0.5, 4)
    W2 = rng.uniform(-0.5, 0.5, (4, 1))
    b2 = rng.uniform(-0.5, 0.5, 1)
    return X, y, [W1, W2], [b1, b2]


def numpy_first_bad_batch(X, y, coefs, intercepts, lr, batch):
    """Plain SGD (no momentum, no L2) on an identity-activation network, batch by
    batch in order: index of the first batch whose loss, or ||coefs||^2 after
    its step, is not finite (scikit-learn's loss and gradient)."""
    W1, W2 = (c.copy() for c in coefs)
    b1, b2 = (b.copy() for b in intercepts)
    Y = y[:, None]
    with np.errstate(all="ignore"):
        for k, start in enumerate(range(0, len(X), batch)):
            Xb, Yb = X[start : start + batch], Y[start : start + batch]
            H = Xb @ W1 + b1
            P = H @ W2 + b2
            loss = ((Yb - P) ** 2).mean() / 2
            dP = (P - Yb) / len(Xb)
            dH = dP @ W2.T
            W2 -= lr * (H.T @ dP)
            b2 -= lr * dP.sum(0)
            W1 -= lr * (Xb.T @ dH)
            b1 -= lr * dH.sum(0)
            sq = (W1**2).sum() + (W2**2).sum()
            if not (np.isfinite(loss) and np.isfinite(sq)):
                return k
    return -1


def diverging_regressor(X, y, coefs, intercepts, lr, batch_size=4):
    """A fitted regressor whose next warm-start epoch runs plain SGD from the
    given weights with learning rate lr."""
    est = MLPRegressor(
        hidden_layer_sizes=(4,),
        activation="identity",
        solver="sgd",
        momentum=0.0,
        alpha=0.0,
        shuffle=False,
        batch_size=batch_size,
        learning_rate_init=1e-6,
        max_iter=1,
        random_state=0,
        warm_start=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    est.coefs_ = [c.copy() for c in coefs]
    est.intercepts_ = [b.copy() for b in intercepts]
    est.set_params(learning_rate_init=lr)
    return est


# (rows, batch size, learning rate): 64- and 128-row batches take the split
# path (chunks trained in parallel, gradients merged before the step).
@pytest.mark.parametrize(
    "n, batch, lr", [(400, 4, 0.5), (2000, 64, 1.0), (4000, 128, 1.0)]
)
def test_divergence_stops_at_the_batch_where_it_happens(monkeypatch, n, batch, lr):
    X, y, coefs, intercepts = linear_problem(n)
    expected = numpy_first_bad_batch(X, y, coefs, intercepts, lr, batch=batch)
    n_batches = -(-len(X) // batch)
    assert 0 < expected < n_batches - 1  # diverges mid-epoch, not at its end

    est = diverging_regressor(X, y, coefs, intercepts, lr, batch)
    before = copy.deepcopy(vars(est))
    returned = spy_epochs(monkeypatch)
    with pytest.raises(ValueError, match=DIVERGED):
        est.fit(X, y)
    assert returned == [(E.ST_DIVERGED, expected)]
    # warm start: the previous model, optimizer and bookkeeping are kept
    assert_state_unchanged(est, before)


def test_stable_training_reports_no_divergence(monkeypatch):
    X, y, coefs, intercepts = linear_problem()
    assert numpy_first_bad_batch(X, y, coefs, intercepts, 1e-3, batch=4) == -1
    est = diverging_regressor(X, y, coefs, intercepts, 1e-3)
    returned = spy_epochs(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    # warm start with max_iter=1: one call, one epoch, ended at max_iter
    assert returned == [(E.ST_MAX_ITER, -1)]


@pytest.mark.parametrize("solver_name", ["sgd", "adam"])
def test_partial_fit_divergence_keeps_previous_model(solver_name):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5))
    y = X.sum(1)
    est = MLPRegressor(
        hidden_layer_sizes=(8,), solver=solver_name, batch_size=10, random_state=0
    )
    for _ in range(3):
        est.partial_fit(X, y)
    before = copy.deepcopy(vars(est))
    with pytest.raises(ValueError, match=DIVERGED):
        est.partial_fit(X * 1e200, y * 1e200)
    assert_state_unchanged(est, before)
    est.partial_fit(X, y)  # and it trains on from there
    assert est.t_ == 4 * len(X)


def test_fresh_fit_divergence_leaves_estimator_unfitted():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5)) * 1e200
    est = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", random_state=0)
    with pytest.raises(ValueError, match=DIVERGED):
        est.fit(X, X[:, 0])
    assert vars(est).keys() == est.get_params().keys()


# ------------------------------------------------------------------ interrupts
def long_fit_estimator(n_jobs=1):
    return MLPClassifier(
        hidden_layer_sizes=(16,),
        solver="sgd",
        batch_size=32,
        max_iter=100_000,
        tol=0.0,
        n_iter_no_change=1_000_000,
        random_state=0,
        n_jobs=n_jobs,
    )


def interrupt_after(seconds):
    timer = threading.Timer(seconds, _thread.interrupt_main)
    timer.start()
    return timer


@pytest.fixture
def interactive_sigint():
    """Python's default SIGINT handler, as in an interactive session. A process
    started in the background by a non-interactive shell (as CI may run us)
    inherits SIGINT as ignored, and then Ctrl-C, interrupt_main() and
    os.kill(SIGINT) do nothing at all, to fastmlp or to any Python code."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="signals reach the main thread only",
)
@pytest.mark.parametrize("how", ["interrupt_main", "sigint"])
def test_interrupted_fit_keeps_last_completed_epoch(how, interactive_sigint):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 10))
    y = (X[:, 0] > 0).astype(int)
    threads_before = numba.get_num_threads()
    est = long_fit_estimator(n_jobs=1)
    if how == "interrupt_main":
        timer = interrupt_after(1.0)
    else:
        timer = threading.Timer(1.0, os.kill, (os.getpid(), 2))
        timer.start()
    with pytest.warns(UserWarning, match="Training interrupted by user."):
        est.fit(X, y)
    timer.join()
    assert numba.get_num_threads() == threads_before
    k = est.n_iter_
    assert 0 < k < est.max_iter
    assert len(est.loss_curve_) == k and est.t_ == k * len(X)
    assert est.loss_ == est.loss_curve_[-1]
    # exactly the model of a fit that ran k epochs
    ref = long_fit_estimator(n_jobs=1).set_params(max_iter=k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref.fit(X, y)
    for a, b in zip(est.coefs_ + est.intercepts_, ref.coefs_ + ref.intercepts_):
        assert a.tobytes() == b.tobytes()
    assert est.loss_curve_ == ref.loss_curve_
    assert est._optimizer.moments.tobytes() == ref._optimizer.moments.tobytes()
    # and the default SIGINT handler is back
    import signal

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_thread_count_restored_after_interrupt(monkeypatch):
    """n_jobs=1 inside the fit, the default outside, also when a
    KeyboardInterrupt escapes the fit (here raised from the kernel's place)."""
    default = numba.get_num_threads()
    seen, kernel = [], solver.run_epochs

    def interrupted(*args):
        seen.append(numba.get_num_threads())
        if len(seen) == 3:
            raise KeyboardInterrupt
        args[11][E.F_EPOCHS] = 1  # one epoch per call, so that there are three
        return kernel(*args)

    monkeypatch.setattr(solver, "run_epochs", interrupted)
    X = np.random.default_rng(0).standard_normal((100, 4))
    est = MLPRegressor(hidden_layer_sizes=(4,), n_jobs=1, max_iter=10)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, X[:, 0])
    assert seen == [1, 1, 1]
    assert numba.get_num_threads() == default
    # an escaping interrupt rolls the call back: a fresh estimator stays unfitted
    assert vars(est).keys() == est.get_params().keys()


def test_escaping_interrupt_keeps_previous_model(monkeypatch):
    X = np.random.default_rng(0).standard_normal((100, 4))
    est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, X[:, 0])
    before = copy.deepcopy(vars(est))
    calls, kernel = [], solver.run_epochs

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        args[11][E.F_EPOCHS] = 1
        return kernel(*args)

    monkeypatch.setattr(solver, "run_epochs", interrupted)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, X[:, 0])
    assert_state_unchanged(est, before)


def test_second_ctrl_c_raises_at_once():
    interrupt = solver._Interrupt()
    interrupt(2, None)
    assert interrupt.requested
    with pytest.raises(KeyboardInterrupt):
        interrupt(2, None)


def test_fit_in_a_worker_thread_leaves_signal_handling_alone():
    import signal

    handler = signal.getsignal(signal.SIGINT)
    X = np.random.default_rng(0).standard_normal((50, 3))
    out = []

    def work():
        est = MLPRegressor(hidden_layer_sizes=(3,), max_iter=2)
        out.append(est.fit(X, X[:, 0]).n_iter_)

    # warning filters are process-wide: set them here, not in the thread
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t = threading.Thread(target=work)
        t.start()
        t.join()
    assert out == [2]
    assert signal.getsignal(signal.SIGINT) is handler


def test_interrupted_lbfgs_rolls_back(monkeypatch):
    """scikit-learn's L-BFGS path catches no KeyboardInterrupt; fastmlp lets it
    through too, and the call is rolled back: a warm-started model keeps its
    previous weights instead of SciPy's half-finished iterate."""
    X = np.random.default_rng(0).standard_normal((100, 4))
    est = MLPRegressor(
        hidden_layer_sizes=(4,), solver="lbfgs", max_iter=5, warm_start=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, X[:, 0])
    before = copy.deepcopy(vars(est))
    calls, kernel = [], solver.run_epochs

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return kernel(*args)

    monkeypatch.setattr(solver, "run_epochs", interrupted)
    threads = numba.get_num_threads()
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, X[:, 0])
    assert len(calls) == 4
    assert numba.get_num_threads() == threads
    assert_state_unchanged(est, before)
