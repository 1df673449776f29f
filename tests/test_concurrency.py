"""Concurrency and determinism (issue 7.4, 7.5).

Threads sharing one fitted model predict exactly what a serial call predicts;
models fitted concurrently equal the same models fitted one by one; the same
random_state gives bit-identical weights across repeated fits, across n_jobs=1
and n_jobs=2 (split-batch, one-chunk and L-BFGS paths), and across processes.
"""

import hashlib
import os
import subprocess
import sys
import textwrap
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from fastmlp import MLPClassifier, MLPRegressor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def data(n=600, f=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, f))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    return X, y


def quiet_fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def weight_bytes(est):
    return b"".join(a.tobytes() for a in est.coefs_ + est.intercepts_)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "jacobian"])
def test_eight_threads_predict_like_a_serial_call(method):
    X, y = data()
    est = quiet_fit(MLPClassifier((32, 16), max_iter=5, random_state=0), X, y)
    # 2,000 rows: several predict blocks per call
    Xp = np.random.default_rng(1).standard_normal((2000, X.shape[1]))
    serial = getattr(est, method)(Xp)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: getattr(est, method)(Xp), range(32)))
    for r in results:
        assert r.dtype == serial.dtype and r.tobytes() == serial.tobytes()


def _models():
    X, y = data()
    Xr = X[:, :6]
    yr = Xr @ np.arange(6.0)
    return [
        (MLPClassifier((64,), batch_size=128, max_iter=4, random_state=1, n_jobs=2), X, y),
        (MLPRegressor(hidden_layer_sizes=(32, 8), solver="sgd", max_iter=4,
                      random_state=2, n_jobs=1), Xr, yr),
        (MLPRegressor(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=20,
                      random_state=3), Xr, yr),
    ]  # fmt: skip


def test_models_fitted_concurrently_equal_models_fitted_one_by_one():
    serial = [weight_bytes(quiet_fit(est, X, y)) for est, X, y in _models()]
    # Warning filters are process-wide (catch_warnings is not thread-safe):
    # set them once here, around all the threads.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with ThreadPoolExecutor(3) as pool:
            futures = [pool.submit(est.fit, X, y) for est, X, y in _models()]
            concurrent = [weight_bytes(f.result()) for f in futures]
    assert concurrent == serial


DETERMINISM_CASES = {
    # 128-row batches are split into chunks trained in parallel
    "split_batches": dict(hidden_layer_sizes=(64,), batch_size=128),
    # 32-row batches of a wide net: one chunk, the step's slices in parallel
    "one_chunk_parallel_step": dict(hidden_layer_sizes=(1024,), batch_size=32),
    "sgd_two_layers": dict(hidden_layer_sizes=(48, 24), solver="sgd", batch_size=100),
    "lbfgs": dict(hidden_layer_sizes=(256,), solver="lbfgs"),
}


def determinism_estimator(case, n_jobs, dtype_name):
    return MLPClassifier(
        max_iter=3, random_state=7, n_jobs=n_jobs, **DETERMINISM_CASES[case]
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(DETERMINISM_CASES))
def test_same_random_state_same_bits_repeated_and_across_n_jobs(case, dtype):
    X, y = data()
    X = X.astype(dtype)
    fits = [
        weight_bytes(quiet_fit(determinism_estimator(case, n_jobs, dtype), X, y))
        for n_jobs in (1, 2, 1, 2)
    ]
    assert len(set(fits)) == 1


CHILD = textwrap.dedent(
    """
    import hashlib, sys, warnings
    sys.path.insert(0, {root!r})
    from sklearn.exceptions import ConvergenceWarning
    from tests.test_concurrency import data, determinism_estimator, weight_bytes
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = data()
    for case in {cases!r}:
        est = determinism_estimator(case, 2, None).fit(X, y)
        print(hashlib.sha256(weight_bytes(est)).hexdigest())
    """
)


def test_same_bits_across_processes():
    cases = ["split_batches", "lbfgs"]
    here = []
    for case in cases:
        est = quiet_fit(determinism_estimator(case, 2, None), *data())
        here.append(hashlib.sha256(weight_bytes(est)).hexdigest())
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=ROOT, cases=cases)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=ROOT,
    )
    assert out.stdout.split() == here
