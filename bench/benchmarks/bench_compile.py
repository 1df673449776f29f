"""Compile latency: a first W1 fit (max_iter=1) in a fresh interpreter, with an
empty Numba cache and with a warm one; the import time; and the cold-start steps
of bench/compile_time.py (a default digits fit in float64 on an empty cache, then
float32, then sparse, then warm), whose targets are 15, 15, 10 and 0.3 s."""

import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import compile_time  # noqa: E402

SCRIPT = """
import numpy as np, warnings
warnings.simplefilter("ignore")
from sklearn.datasets import make_classification
import fastmlp
X, y = make_classification(n_samples=2000, n_features=64, n_informative=32,
                           n_classes=10, random_state=0)
fastmlp.MLPClassifier((100,), max_iter=1, random_state=0).fit(X.astype(np.float32), y)
"""


def _run(code, cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    return time.perf_counter() - start


class Compile:
    timeout = 600

    def track_cold_start_seconds(self):
        with tempfile.TemporaryDirectory() as cache:
            return _run(SCRIPT, cache)

    def track_warm_cache_seconds(self):
        with tempfile.TemporaryDirectory() as cache:
            _run(SCRIPT, cache)
            return _run(SCRIPT, cache)

    def track_import_seconds(self):
        """``import fastmlp`` alone (the estimators load on first access)."""
        with tempfile.TemporaryDirectory() as cache:
            return _run("import fastmlp", cache)

    def track_import_estimators_seconds(self):
        """``from fastmlp import MLPClassifier``: scikit-learn, SciPy, Numba and
        the kernel modules (compare track_import_sklearn_seconds)."""
        with tempfile.TemporaryDirectory() as cache:
            return _run("from fastmlp import MLPClassifier", cache)

    def track_import_sklearn_seconds(self):
        """scikit-learn's own MLP import, the floor under the line above."""
        with tempfile.TemporaryDirectory() as cache:
            return _run("from sklearn.neural_network import MLPClassifier", cache)

    track_cold_start_seconds.unit = "seconds"
    track_warm_cache_seconds.unit = "seconds"
    track_import_seconds.unit = "seconds"
    track_import_estimators_seconds.unit = "seconds"
    track_import_sklearn_seconds.unit = "seconds"


class ColdStart:
    """bench/compile_time.py's four steps, each in a fresh interpreter, sharing
    one cache folder that starts empty: what a new user waits for."""

    timeout = 900
    repeat = 1
    number = 1

    def setup_cache(self):
        with tempfile.TemporaryDirectory(prefix="fastmlp-cache-") as cache:
            return {
                step: compile_time.run_step(step, cache) for step in compile_time.STEPS
            }

    def track_first_fit_float64_seconds(self, steps):
        return steps["float64"]["wall"]

    def track_then_float32_seconds(self, steps):
        return steps["float32"]["wall"]

    def track_then_sparse_seconds(self, steps):
        return steps["sparse"]["wall"]

    def track_warm_first_fit_seconds(self, steps):
        return steps["warm"]["wall"]

    def track_compile_seconds_float64(self, steps):
        return steps["float64"]["kernels"].get("<total>", 0.0)

    track_first_fit_float64_seconds.unit = "seconds"
    track_then_float32_seconds.unit = "seconds"
    track_then_sparse_seconds.unit = "seconds"
    track_warm_first_fit_seconds.unit = "seconds"
    track_compile_seconds_float64.unit = "seconds"
