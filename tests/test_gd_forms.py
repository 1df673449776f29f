"""The three forms of gradient descent: online (batch_size=1), mini-batch (an
integer) and batch (batch_size="full"), each checked update by update against a
plain NumPy trainer for two epochs.

The reference is written from the update rules (scikit-learn's SGDOptimizer and
AdamOptimizer), starting from Glorot weights drawn with NumPy's RandomState in
scikit-learn's order, with shuffle=False so that batches are rows in order."""

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

from fastmlp import MLPClassifier, MLPRegressor
from fastmlp._kernels.activations import ACT_IDENTITY, ACT_SOFTMAX, ACT_TANH
from fastmlp._kernels.losses import LOSS_LOG, LOSS_SQUARED
from tests import reference

LR, ALPHA, MOMENTUM = 0.05, 1e-3, 0.9
BETA_1, BETA_2, EPS = 0.9, 0.999, 1e-8


def glorot(units, seed):
    """Initial weights as scikit-learn draws them (tanh: factor 6)."""
    rs = np.random.RandomState(seed)
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        coefs.append(rs.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rs.uniform(-bound, bound, fan_out))
    return coefs, intercepts


def numpy_train(
    coefs, intercepts, X, Y, batch_size, epochs, solver, nesterov, out_code, loss_code,
    lr,
):  # fmt: skip
    """Two-epoch reference: for each batch, gradient (dW + alpha W) / B and
    db / B, then an SGD-with-momentum or an Adam step."""
    params = [p.copy() for p in coefs + intercepts]
    n_coef = len(coefs)
    state = [np.zeros_like(p) for p in params]  # velocity, or Adam's m
    second = [np.zeros_like(p) for p in params]  # Adam's v
    t = 0
    n = len(X)
    for _ in range(epochs):
        for start in range(0, n, batch_size):
            Xb, Yb = X[start : start + batch_size], Y[start : start + batch_size]
            nb = len(Xb)
            _, dWs, dbs = reference.mlp_loss_grad(
                params[:n_coef],
                params[n_coef:],
                Xb,
                Yb,
                np.ones(nb),
                ACT_TANH,
                out_code,
                loss_code,
                ALPHA,
            )
            grads = [(dW + ALPHA * W) / nb for dW, W in zip(dWs, params[:n_coef])]
            grads += [db / nb for db in dbs]
            if solver == "sgd":
                for i, g in enumerate(grads):
                    state[i] = MOMENTUM * state[i] - lr * g
                    step = MOMENTUM * state[i] - lr * g if nesterov else state[i]
                    params[i] += step
            else:
                t += 1
                lr_t = lr * np.sqrt(1 - BETA_2**t) / (1 - BETA_1**t)
                for i, g in enumerate(grads):
                    state[i] = BETA_1 * state[i] + (1 - BETA_1) * g
                    second[i] = BETA_2 * second[i] + (1 - BETA_2) * g**2
                    params[i] -= lr_t * state[i] / (np.sqrt(second[i]) + EPS)
    return params[:n_coef], params[n_coef:]


SOLVERS = [
    ("sgd", True),
    ("sgd", False),
    ("adam", False),
]


def learning_rate(batch_size):
    """A smaller step for online SGD: 400 momentum steps at LR diverge, and a
    diverging run amplifies rounding differences beyond any tolerance."""
    return LR / 10 if batch_size == 1 else LR  # "auto", "full": LR


def estimator_kw(solver, nesterov, batch_size):
    return dict(
        hidden_layer_sizes=(6, 5),
        activation="tanh",
        solver=solver,
        batch_size=batch_size,
        learning_rate_init=learning_rate(batch_size),
        alpha=ALPHA,
        momentum=MOMENTUM,
        nesterovs_momentum=nesterov,
        beta_1=BETA_1,
        beta_2=BETA_2,
        epsilon=EPS,
        shuffle=False,
        max_iter=2,
        random_state=0,
    )


def fit2(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


# 250 rows: batches of 100, "auto" (200) and "full" are split into parallel row
# chunks (batch_split); 16, 100 and "auto" end with a shorter batch.
@pytest.mark.parametrize("batch_size", [1, 16, 100, "auto", "full"])
@pytest.mark.parametrize("solver,nesterov", SOLVERS)
def test_regressor_updates_match_numpy_for_two_epochs(
    rng, solver, nesterov, batch_size
):
    n = 250
    X = rng.standard_normal((n, 4))
    Y = np.stack([np.sin(X[:, 0]) + X[:, 1], X[:, 2] * X[:, 3]], axis=1)
    est = fit2(MLPRegressor(**estimator_kw(solver, nesterov, batch_size)), X, Y)
    B = {"full": n, "auto": min(200, n)}.get(batch_size, batch_size)
    coefs, intercepts = numpy_train(
        *glorot([4, 6, 5, 2], 0), X, Y, B, 2, solver, nesterov, ACT_IDENTITY,
        LOSS_SQUARED, learning_rate(batch_size),
    )  # fmt: skip
    for a, b in zip(est.coefs_ + est.intercepts_, coefs + intercepts):
        assert_allclose(a, b, rtol=1e-6, atol=1e-9)
    assert est.n_iter_ == 2 and est.t_ == 2 * n


@pytest.mark.parametrize("batch_size", [1, 16, "full"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_classifier_updates_match_numpy_for_two_epochs(rng, solver, batch_size):
    n = 150
    X = rng.standard_normal((n, 3))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    est = fit2(MLPClassifier(**estimator_kw(solver, True, batch_size)), X, y)
    B = n if batch_size == "full" else batch_size
    Y = np.eye(3)[y]
    coefs, intercepts = numpy_train(
        *glorot([3, 6, 5, 3], 0), X, Y, B, 2, solver, True, ACT_SOFTMAX, LOSS_LOG,
        learning_rate(batch_size),
    )  # fmt: skip
    for a, b in zip(est.coefs_ + est.intercepts_, coefs + intercepts):
        assert_allclose(a, b, rtol=1e-6, atol=1e-9)


def test_full_batch_is_batch_size_n_and_one_step_per_epoch(rng):
    X = rng.standard_normal((90, 3))
    y = X @ [1.0, -2.0, 0.5]
    kw = dict(solver="adam", shuffle=True, max_iter=3, random_state=0)
    full = fit2(MLPRegressor(batch_size="full", **kw), X, y)
    n = fit2(MLPRegressor(batch_size=90, **kw), X, y)
    for a, b in zip(full.coefs_, n.coefs_):
        assert_allclose(a, b, rtol=1e-12)
    assert full._optimizer.t == 3  # Adam's step count: one per epoch
    # With early stopping "full" means the training part of the data.
    es = fit2(MLPRegressor(batch_size="full", early_stopping=True, **kw), X, y)
    assert es._optimizer.t == es.n_iter_
    # partial_fit: one step on the whole chunk passed in.
    pf = MLPRegressor(batch_size="full", random_state=0)
    ref = MLPRegressor(batch_size=45, random_state=0)
    for est in (pf, ref):
        est.partial_fit(X[:45], y[:45])
        est.partial_fit(X[45:], y[45:])
    assert pf._optimizer.t == 2 and pf.t_ == 90
    for a, b in zip(pf.coefs_, ref.coefs_):
        assert_allclose(a, b, rtol=1e-12)
    # lbfgs ignores batch sizes, "full" included.
    lb = fit2(MLPRegressor(batch_size="full", solver="lbfgs", random_state=0), X, y)
    ref = fit2(MLPRegressor(solver="lbfgs", random_state=0), X, y)
    assert_allclose(lb.coefs_[0], ref.coefs_[0], rtol=1e-12)


def test_batch_size_rejects_other_strings():
    with pytest.raises(InvalidParameterError):
        MLPRegressor(batch_size="half").fit(np.ones((4, 2)), np.arange(4.0))


SCRIPT = textwrap.dedent(
    """
    import warnings
    import numpy as np
    from numba.core.runtime import rtsys
    import fastmlp, fastmlp._solver as solver

    counts, kernel = [], solver.train_epochs

    def counted(*args):
        before = rtsys.get_allocation_stats().alloc
        out = kernel(*args)
        counts.append(rtsys.get_allocation_stats().alloc - before)
        flat = [x for a in args for x in (a if isinstance(a, tuple) else (a,))]
        counts.append(sum(isinstance(a, np.ndarray) for a in flat))
        return out

    solver.train_epochs = counted
    X = np.random.default_rng(0).standard_normal((20000, 8)).astype(np.float32)
    y = X[:, 0] - X[:, 1]
    warnings.simplefilter("ignore")
    fastmlp.MLPRegressor(
        hidden_layer_sizes=(16,), batch_size="full", max_iter=3, random_state=0
    ).fit(X, y)
    print(*counts, *solver.batch_split(20000))
    """
)


@pytest.mark.skipif("NUMBA_DISABLE_JIT" in os.environ, reason="needs compiled code")
def test_full_batch_of_20000_rows_is_split_and_allocates_the_same_every_epoch():
    env = dict(os.environ, NUMBA_NRT_STATS="1")
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    *allocs, n_split, chunk_rows = map(int, out)
    # One or more compiled calls (the fit runs its epochs in blocks of about
    # the same wall time, so how many epochs a call takes depends on speed).
    assert len(allocs) >= 2 and len(allocs) % 2 == 0
    # The only NRT allocations are the MemInfos that wrap each array argument.
    for alloc, n_arrays in zip(allocs[::2], allocs[1::2]):
        assert alloc == n_arrays
    assert n_split == 16 and n_split * chunk_rows >= 20000
