"""Shared set-up for the asv benchmarks: the BENCHMARKS.md workloads at a size
set by FASTMLP_BENCH_PROFILE ("fast": 1/10 of the samples, the default;
"regular": full size), and a warm-up that keeps Numba's compile time out of
every timed run (numba-benchmark's practice)."""

import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from workloads import (  # noqa: E402,F401
    W8_BY_NAME,
    WORKLOADS,
    predict_data,
    w9_workloads,
)

PROFILE = os.environ.get("FASTMLP_BENCH_PROFILE", "fast")
SCALE = 1.0 if PROFILE == "regular" else 0.1


def estimator(impl, task):
    if impl == "fastmlp":
        import fastmlp

        return fastmlp.MLPClassifier if task == "clf" else fastmlp.MLPRegressor
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    return MLPClassifier if task == "clf" else MLPRegressor


def quiet_fit(est, X, y):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        return est.fit(X, y)


def warmup(workload, X, y):
    """Compile every kernel this workload's fit uses (untimed)."""
    cls = estimator("fastmlp", workload.task)
    quiet_fit(cls(**workload.params(epochs=1)), X[:300], y[:300])
