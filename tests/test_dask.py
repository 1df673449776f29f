"""GridSearchCV on a real Dask cluster (distributed.LocalCluster, two worker
processes), through joblib's "dask" backend, against the same search on loky."""

import warnings

import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from fastmlp import MLPClassifier, _jit

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")


def worker_state():
    """Run in each Dask worker: how its kernels were obtained, and its threads."""
    from fastmlp._kernels.network import run_task, train_epochs
    from fastmlp._threads import resolve_n_jobs

    return {
        "hits": sum(train_epochs.stats.cache_hits.values())
        + sum(run_task.stats.cache_hits.values()),
        "misses": sum(train_epochs.stats.cache_misses.values())
        + sum(run_task.stats.cache_misses.values()),
        "threads": resolve_n_jobs(None),
    }


@pytest.mark.slow
@pytest.mark.skipif(_jit.JIT_DISABLED, reason="compiled kernels only")
def test_grid_search_on_a_local_dask_cluster_matches_loky():
    X, y = load_digits(return_X_y=True)
    X = X[:600] / 16.0
    y = y[:600]
    grid = {"hidden_layer_sizes": [(16,), (32,)], "alpha": [1e-4, 1e-1]}
    est = MLPClassifier(max_iter=15, random_state=0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        loky = GridSearchCV(est, grid, cv=3, n_jobs=2).fit(X, y)
        with (
            distributed.LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            with joblib.parallel_backend("dask"):
                on_dask = GridSearchCV(est, grid, cv=3, n_jobs=-1).fit(X, y)
            states = client.run(worker_state)

    assert on_dask.best_params_ == loky.best_params_
    assert_array_equal(
        on_dask.cv_results_["mean_test_score"], loky.cv_results_["mean_test_score"]
    )
    assert len(states) == 2
    # Dask's nanny starts workers with OMP_NUM_THREADS=1: one thread per task,
    # so two single-threaded workers never oversubscribe two cores.
    assert all(s["threads"] == 1 for s in states.values())
    worked = [s for s in states.values() if s["hits"] + s["misses"]]
    assert worked, states
    if _jit.CACHE:
        # The test session compiled these kernels (conftest's warm-up) into the
        # on-disk cache: each worker process loaded them, none compiled them.
        assert all(s["misses"] == 0 and s["hits"] >= 1 for s in worked), states
