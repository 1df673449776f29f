"""W8 (scikit-learn's bundled data sets, default parameters) and W9 (a grid
search over a scaler + MLP pipeline on digits), fastmlp and scikit-learn side by
side. The bundled data sets are tiny, so both profiles fit them whole; W9 runs
cv=5 over the 3x2 grid in the "regular" profile and cv=3 over a 2x2 grid in
"fast" (bench/workloads.py, w9_workloads)."""

from .common import PROFILE, W8_BY_NAME, estimator, quiet_fit, w9_workloads

IMPLS = ["fastmlp", "sklearn"]


class Bundled:
    """W8: one default fit (random_state=0, default max_iter and tol, so it may
    stop early) on all rows of a standardised bundled data set; fastmlp also at
    n_jobs=1, the time its default n_jobs should stay within 1.10x of."""

    params = (list(W8_BY_NAME), ["fastmlp", "fastmlp n_jobs=1", "sklearn"])
    param_names = ["dataset", "impl"]
    timeout = 300

    def setup(self, dataset, impl):
        self.w = W8_BY_NAME[dataset]
        self.X, self.y = self.w.data()
        self.cls = estimator(impl.split()[0], self.w.task)
        self.p = self.w.params(**({"n_jobs": 1} if impl.endswith("=1") else {}))
        quiet_fit(self.cls(**self.p), self.X, self.y)  # compile / cache load

    def time_fit(self, dataset, impl):
        quiet_fit(self.cls(**self.p), self.X, self.y)

    def track_train_score(self, dataset, impl):
        """Training-set accuracy / R^2 (W8 is a speed row: no held-out rows)."""
        return quiet_fit(self.cls(**self.p), self.X, self.y).score(self.X, self.y)

    track_train_score.unit = "score"


_WARM = set()  # (n_jobs, impl) searched once already in this process


class Search:
    """W9: the whole GridSearchCV call at search n_jobs 1 and 2. setup runs one
    untimed search per configuration and process: it fills Numba's on-disk cache
    and starts the loky workers (which load the kernels from it) that the timed
    searches reuse."""

    params = ([1, 2], IMPLS)
    param_names = ["n_jobs", "impl"]
    timeout = 900
    number = 1
    repeat = 3
    rounds = 1
    warmup_time = 0

    def setup(self, n_jobs, impl):
        quick = PROFILE != "regular"
        self.w = {w.n_jobs: w for w in w9_workloads(quick)}[n_jobs]
        self.X, self.y = self.w.data()
        self.cls = estimator(impl, "clf")
        if (n_jobs, impl) not in _WARM:
            self._search()
            _WARM.add((n_jobs, impl))

    def _search(self):
        return quiet_fit(self.w.search(self.cls), self.X, self.y)

    def time_search(self, n_jobs, impl):
        self._search()

    def track_best_score(self, n_jobs, impl):
        return self._search().best_score_

    track_best_score.unit = "score"
