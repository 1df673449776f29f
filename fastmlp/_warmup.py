"""Compile (or load from cache) every kernel a fit and a predict use."""

import warnings

import numpy as np


def warmup(dtypes=(np.float32, np.float64)):
    """Run tiny fits with sgd, adam and lbfgs and a predict, for each dtype.

    Call it once in a worker process (or a test session) so the first real fit
    does not pay Numba's compile time."""
    from sklearn.exceptions import ConvergenceWarning

    from ._estimators import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(0)
    for dtype in dtypes:
        X = rng.standard_normal((8, 3)).astype(dtype)
        y = np.arange(8) % 3
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for solver in ("sgd", "adam"):
                MLPClassifier((4,), solver=solver, max_iter=1).fit(X, y).predict(X)
                MLPRegressor(hidden_layer_sizes=(4,), solver=solver, max_iter=1).fit(
                    X, X[:, 0]
                )
            if dtype == np.float64:
                MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=1).fit(
                    X, X[:, 0]
                )
