"""Compile latency: a first W1 fit (max_iter=1) in a fresh interpreter, with an
empty Numba cache and with a warm one; and the import time."""

import os
import subprocess
import sys
import tempfile
import time

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
