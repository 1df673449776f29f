"""GridSearchCV wall time with joblib's loky backend (1 and 2 jobs; the estimator's
own n_jobs=None, i.e. all threads the process may use), and on a Dask
LocalCluster of 2 single-threaded worker processes (joblib's "dask" backend).

Each search runs twice and the second time is reported: the first pays worker
start-up and Numba cache loading. Usage: ``python bench/gridsearch_backends.py``.
"""

import time
import warnings

import joblib
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from fastmlp import MLPClassifier

GRID = {"hidden_layer_sizes": [(32,), (64,)], "alpha": [1e-4, 1e-2]}


def search(X, y, n_jobs, threads=None):
    est = MLPClassifier(max_iter=50, random_state=0, n_jobs=threads)
    t0 = time.perf_counter()
    gs = GridSearchCV(est, GRID, cv=3, n_jobs=n_jobs).fit(X, y)
    return time.perf_counter() - t0, gs.best_params_


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    rows = []
    for n_jobs in (1, 2):
        search(X, y, n_jobs)
        rows.append((f"loky n_jobs={n_jobs}", *search(X, y, n_jobs)))
    # One process, one thread: what n_jobs=2 is measured against on a busy host,
    # where a 2-thread parallel region waits for its slowest thread.
    search(X, y, 1, threads=1)
    rows.append(("loky n_jobs=1, MLP n_jobs=1", *search(X, y, 1, threads=1)))
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        print("distributed is not installed: no Dask run")
    else:
        with (
            LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            Client(cluster),
            joblib.parallel_backend("dask"),
        ):
            search(X, y, -1)
            rows.append(("dask 2 workers x 1 thread", *search(X, y, -1)))
    print("| backend | wall time (s) | best_params_ |")
    print("|---|---|---|")
    for name, seconds, best in rows:
        print(f"| {name} | {seconds:.2f} | {best} |")
    return rows


if __name__ == "__main__":
    main()
