"""Estimator benchmarks for W1-W7, fastmlp and scikit-learn side by side."""

from .common import SCALE, WORKLOADS, estimator, predict_data, quiet_fit, warmup

IMPLS = ["fastmlp", "sklearn"]


class Fit:
    """time / peak memory / score of one fit per workload and implementation."""

    params = (["W1", "W2", "W3", "W4", "W5", "W6"], IMPLS)
    param_names = ["workload", "impl"]
    timeout = 600

    def setup(self, key, impl):
        self.w = WORKLOADS[key]
        self.X, self.X_test, self.y, self.y_test = self.w.data(SCALE)
        warmup(self.w, self.X, self.y)
        self.cls = estimator(impl, self.w.task)

    def time_fit(self, key, impl):
        quiet_fit(self.cls(**self.w.params()), self.X, self.y)

    def peakmem_fit(self, key, impl):
        quiet_fit(self.cls(**self.w.params()), self.X, self.y)

    def track_test_score(self, key, impl):
        return quiet_fit(self.cls(**self.w.params()), self.X, self.y).score(
            self.X_test, self.y_test
        )

    track_test_score.unit = "score"


class Predict:
    """W7: predict_proba of W3's network on many rows."""

    params = IMPLS
    param_names = ["impl"]
    timeout = 600

    def setup(self, impl):
        w = WORKLOADS["W3"]
        X, _, y, _ = w.data(SCALE * 0.2)
        warmup(w, X, y)
        self.model = quiet_fit(estimator(impl, "clf")(**w.params(epochs=1)), X, y)
        self.X = predict_data(int(100_000 * SCALE))
        self.model.predict_proba(self.X[:10])

    def time_predict_proba(self, impl):
        self.model.predict_proba(self.X)


class BatchSizeCurve:
    """Time of one epoch of W1's network against batch size (the U-curve)."""

    params = ([1, 4, 16, 64, 256, 1024, 4096], IMPLS)
    param_names = ["batch_size", "impl"]
    timeout = 600

    def setup(self, batch_size, impl):
        self.w = WORKLOADS["W1"]
        self.X, _, self.y, _ = self.w.data(SCALE * 0.2)
        self.p = dict(self.w.params(epochs=1), batch_size=batch_size)
        quiet_fit(estimator("fastmlp", "clf")(**self.p), self.X[:300], self.y[:300])
        self.cls = estimator(impl, "clf")

    def time_epoch(self, batch_size, impl):
        quiet_fit(self.cls(**self.p), self.X, self.y)


class ThreadScaling:
    """W1 and W3 with n_jobs threads (fastmlp only)."""

    params = (["W1", "W3"], [1, 2, 4, 8, 16])
    param_names = ["workload", "n_jobs"]
    timeout = 600

    def setup(self, key, n_jobs):
        import numba

        if n_jobs > numba.config.NUMBA_NUM_THREADS:
            raise NotImplementedError("more threads than this machine has")
        self.w = WORKLOADS[key]
        self.X, _, self.y, _ = self.w.data(SCALE)
        warmup(self.w, self.X, self.y)

    def time_fit(self, key, n_jobs):
        cls = estimator("fastmlp", self.w.task)
        quiet_fit(cls(n_jobs=n_jobs, **self.w.params()), self.X, self.y)


class LargeFloat32Fit:
    """Peak memory of one epoch on a tall float32 matrix (issue 7: no hidden copies
    of X). 2,000,000 x 100 in the "regular" profile, 1/10 of it in "fast"; see
    bench/memory.py for the same measurement with the baseline split out."""

    params = (IMPLS,)
    param_names = ["impl"]
    timeout = 900

    def setup(self, impl):
        import numpy as np

        rows = 2_000_000 if SCALE == 1.0 else 200_000
        rng = np.random.default_rng(0)
        self.X = np.empty((rows, 100), dtype=np.float32)
        for start in range(0, rows, 65536):
            rng.standard_normal(out=self.X[start : start + 65536], dtype=np.float32)
        self.y = (self.X[:, 0] + self.X[:, 1] > 0).astype(np.int64)
        self.kw = dict(
            hidden_layer_sizes=(32,), batch_size=256, max_iter=1, random_state=0
        )
        self.cls = estimator(impl, "clf")
        if impl == "fastmlp":
            quiet_fit(self.cls(**self.kw), self.X[:300], self.y[:300])

    def peakmem_fit(self, impl):
        quiet_fit(self.cls(**self.kw), self.X, self.y)
