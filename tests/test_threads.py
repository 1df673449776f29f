"""Threads: n_jobs inside fit, joblib's workers and threads, fork, the workqueue
layer. Scripts that fork or pick a threading layer run in a fresh interpreter, so
a failure kills that process and not the test session."""

import os
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import joblib
import numba
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_validate

from fastmlp import MLPClassifier, _jit, _threads

ROOT = Path(__file__).resolve().parent.parent


def run_script(code, env=None, timeout=300):
    environ = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=environ,
        timeout=timeout,
        cwd=ROOT,
    )


class ThreadRecorder(MLPClassifier):
    """Records Numba's thread count as seen inside fit (``_set_weights`` runs
    inside the numba_threads block, at the end of training)."""

    def _set_weights(self, theta, layout):
        self.threads_in_fit_ = numba.get_num_threads()
        super()._set_weights(theta, layout)


@pytest.fixture(scope="module")
def data():
    return make_classification(
        n_samples=300, n_features=12, n_informative=6, n_classes=3, random_state=0
    )


def test_thread_count_restored_after_an_exception():
    before = numba.get_num_threads()
    with pytest.raises(RuntimeError, match="boom"):
        with _threads.numba_threads(1):
            assert numba.get_num_threads() == 1
            raise RuntimeError("boom")
    assert numba.get_num_threads() == before
    assert _threads.parallel_allowed() == (_jit.THREADING_LAYER != "workqueue")


def test_none_is_capped_by_omp_num_threads(monkeypatch):
    limit = numba.config.NUMBA_NUM_THREADS
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert _threads.resolve_n_jobs(None) == limit
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # as Dask's nanny sets it
    assert _threads.resolve_n_jobs(None) == 1
    assert _threads.resolve_n_jobs(limit) == limit  # explicit n_jobs is honoured
    monkeypatch.setenv("OMP_NUM_THREADS", "junk")
    assert _threads.resolve_n_jobs(None) == limit


def test_concurrent_calls_share_the_threads_of_n_jobs_none(monkeypatch):
    """Two calls at once in one process, n_jobs=None: each gets half the threads
    (at least one), so joblib's threading backend does not oversubscribe."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    limit = numba.config.NUMBA_NUM_THREADS
    inside = threading.Barrier(2, timeout=30)
    seen = {}

    def call(name):
        with _threads.numba_threads(None):
            inside.wait()  # both blocks are open now
            seen[name] = numba.get_num_threads()
            inside.wait()

    workers = [threading.Thread(target=call, args=(k,)) for k in "ab"]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    counts = sorted(seen.values())
    # Whichever entered first got all threads; the second, half of them.
    assert counts == sorted([limit, max(1, limit // 2)])
    with _threads.numba_threads(None):
        assert numba.get_num_threads() == limit  # alone again


def test_loky_workers_use_cores_divided_by_jobs(data):
    """joblib's loky backend starts its workers with NUMBA_NUM_THREADS =
    cores // n_jobs; fit with n_jobs=None uses exactly that many threads."""
    X, y = data
    est = ThreadRecorder(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = cross_validate(est, X, y, cv=2, n_jobs=2, return_estimator=True)
    expected = max(1, joblib.cpu_count() // 2)
    assert [e.threads_in_fit_ for e in res["estimator"]] == [expected, expected]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = cross_validate(est, X, y, cv=2, n_jobs=1, return_estimator=True)
    limit = _threads.resolve_n_jobs(None)
    assert [e.threads_in_fit_ for e in res["estimator"]] == [limit, limit]


def test_threading_backend_grid_search_matches_sequential(data):
    X, y = data
    grid = {"hidden_layer_sizes": [(8,), (16,)], "alpha": [1e-4, 1e-1]}
    est = MLPClassifier(max_iter=10, batch_size=64, random_state=0)

    def search(n_jobs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return GridSearchCV(est, grid, cv=3, n_jobs=n_jobs).fit(X, y)

    sequential = search(1)
    with joblib.parallel_backend("threading"):
        threaded = search(2)
    np.testing.assert_array_equal(
        threaded.cv_results_["mean_test_score"],
        sequential.cv_results_["mean_test_score"],
    )
    assert threaded.best_params_ == sequential.best_params_


FORK_SCRIPT = """
import multiprocessing as mp, warnings
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from fastmlp import MLPClassifier, _jit

warnings.simplefilter("ignore", ConvergenceWarning)
X, y = load_digits(return_X_y=True)
KW = dict(hidden_layer_sizes=(64,), max_iter=3, random_state=0)

def fit_in_child(q):
    clf = MLPClassifier(**KW).fit(X, y)
    q.put([c.tobytes() for c in clf.coefs_ + clf.intercepts_])

def numba_prange_in_child(q):
    import numba
    @numba.njit(parallel=True)
    def total(x):
        s = 0.0
        for i in numba.prange(x.shape[0]):
            s += x[i]
        return s
    q.put(total(np.ones(1000)))

if __name__ == "__main__":
    parent = MLPClassifier(**KW).fit(X, y)  # batches of 200 rows: parallel chunks
    ctx = mp.get_context("fork")
    for target in (fit_in_child, numba_prange_in_child):
        q = ctx.Queue()
        p = ctx.Process(target=target, args=(q,))
        p.start()
        got = q.get(timeout=120) if target is fit_in_child else None
        p.join(120)
        if target is fit_in_child:
            same = got == [c.tobytes() for c in parent.coefs_ + parent.intercepts_]
            print("fit child exit", p.exitcode, "bit-identical", same)
        else:
            print("prange child exit", p.exitcode, "layer", _jit.THREADING_LAYER)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="no fork on Windows")
def test_fit_in_a_forked_child_after_a_parallel_fit():
    """A child forked after the parent trained with parallel kernels trains the
    same model bit for bit (serially), where a plain Numba prange function in
    the same situation is killed by GNU OpenMP's fork check."""
    result = run_script(FORK_SCRIPT)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "fit child exit 0 bit-identical True" in lines, result.stdout
    prange_line = next(line for line in lines if line.startswith("prange child"))
    if _jit.THREADING_LAYER == "omp":
        # Numba's own behaviour, which fastmlp steps around: SIGTERM.
        assert prange_line.startswith("prange child exit -15"), prange_line
        assert "fork() called from a process already using GNU OpenMP" in (
            result.stderr
        )


WORKQUEUE_SCRIPT = """
import warnings
from concurrent.futures import ThreadPoolExecutor
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from fastmlp import MLPClassifier, _jit

warnings.simplefilter("ignore", ConvergenceWarning)
X, y = load_digits(return_X_y=True)

def fit(seed):
    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=4, random_state=seed)
    clf.fit(X, y)
    return [c.tobytes() for c in clf.coefs_], clf.predict_proba(X).tobytes()

alone = [fit(seed) for seed in range(4)]
with ThreadPoolExecutor(4) as pool:
    together = list(pool.map(fit, range(4)))
print("layer", _jit.THREADING_LAYER, "same", together == alone)
"""


def test_concurrent_fits_under_the_workqueue_layer():
    """Numba's workqueue layer aborts the process when two threads run parallel
    regions at once; fastmlp lets one call at a time run them, the others run
    serially, with the same results."""
    result = run_script(WORKQUEUE_SCRIPT, env={"NUMBA_THREADING_LAYER": "workqueue"})
    assert result.returncode == 0, result.stderr
    assert "layer workqueue same True" in result.stdout, result.stdout
