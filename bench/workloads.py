"""The benchmark workloads of bench/README.md, shared by bench/compare.py
and the asv benchmarks."""

from dataclasses import dataclass, field

import numpy as np
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import train_test_split


@dataclass(frozen=True)
class Workload:
    id: str
    task: str  # "clf" or "reg"
    n_samples: int
    n_features: int
    n_classes: int
    hidden: tuple
    activation: str
    solver: str
    batch_size: object
    epochs: int
    dtype: str
    extra: dict = field(default_factory=dict)

    def params(self, epochs=None):
        """Estimator parameters: exactly ``epochs`` epochs, as BENCHMARKS.md fixes."""
        epochs = self.epochs if epochs is None else epochs
        p = dict(
            hidden_layer_sizes=self.hidden,
            activation=self.activation,
            solver=self.solver,
            max_iter=epochs,
            random_state=0,
            **self.extra,
        )
        if self.solver != "lbfgs":
            p.update(
                batch_size=self.batch_size,
                tol=0.0,
                n_iter_no_change=epochs + 1,
                shuffle=True,
                early_stopping=False,
            )
        return p

    def n_weights(self):
        units = [
            self.n_features,
            *self.hidden,
            self.n_classes if self.task == "clf" and self.n_classes > 2 else 1,
        ]
        return sum(a * b for a, b in zip(units[:-1], units[1:]))

    def data(self, scale=1.0):
        """(X_train, X_test, y_train, y_test); ``scale`` shrinks n_samples."""
        n = max(200, int(self.n_samples * scale))
        if self.task == "clf":
            X, y = make_classification(
                n_samples=n,
                n_features=self.n_features,
                n_informative=min(self.n_features, max(2, self.n_features // 2)),
                n_classes=self.n_classes,
                random_state=0,
            )
        else:
            X, y = make_regression(
                n_samples=n, n_features=self.n_features, noise=1.0, random_state=0
            )
            y = (y - y.mean()) / y.std()
        X = X.astype(self.dtype)
        return train_test_split(X, y, test_size=0.2, random_state=0)


W1 = Workload(
    "W1 small-clf", "clf", 50_000, 64, 10, (100,), "relu", "adam", 200, 10, "float32"
)
W2 = Workload(
    "W2 deep-reg",
    "reg",
    100_000,
    20,
    0,
    (64, 64),
    "relu",
    "sgd",
    64,
    5,
    "float32",
    dict(momentum=0.9, nesterovs_momentum=True),
)
W3 = Workload(
    "W3 wide-clf", "clf", 60_000, 784, 10, (512, 512), "relu", "adam", 128, 2, "float32"
)
W4 = Workload(
    "W4 online",
    "reg",
    20_000,
    16,
    0,
    (32,),
    "tanh",
    "sgd",
    1,
    2,
    "float32",
    dict(momentum=0.0),
)
W5 = Workload(
    "W5 full-batch", "clf", 10_000, 32, 2, (50,), "tanh", "lbfgs", None, 100, "float64"
)
W6 = Workload(
    "W6 float64", "clf", 50_000, 64, 10, (100,), "relu", "adam", 200, 10, "float64"
)

WORKLOADS = {w.id.split()[0]: w for w in (W1, W2, W3, W4, W5, W6)}
W7_PREDICT_ROWS = 100_000  # W7: W3's fitted model, predict_proba on this many rows


def predict_data(n_rows=W7_PREDICT_ROWS, n_features=784, dtype="float32"):
    return np.random.default_rng(0).standard_normal((n_rows, n_features)).astype(dtype)


# ------------------------------------------------------------ W8: bundled data
@dataclass(frozen=True)
class BundledWorkload:
    """W8: one of scikit-learn's bundled data sets, ``StandardScaler``-ed (fit on
    the whole X; a regression target standardised too), fitted on all rows with
    the estimator's default parameters but ``random_state=0``: default
    ``max_iter=200`` and ``tol``, so a fit may stop early. A speed row: its score
    is the training-set score."""

    id: str
    loader: str  # a load_* function of sklearn.datasets
    task: str  # "clf" or "reg"

    def params(self, **extra):
        return dict(random_state=0, **extra)

    def data(self):
        """(X, y), float64, every row."""
        from sklearn import datasets
        from sklearn.preprocessing import StandardScaler

        X, y = getattr(datasets, self.loader)(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        if self.task == "reg":
            y = (y - y.mean()) / y.std()
        return X, y


W8 = (
    BundledWorkload("W8 iris", "load_iris", "clf"),
    BundledWorkload("W8 wine", "load_wine", "clf"),
    BundledWorkload("W8 breast_cancer", "load_breast_cancer", "clf"),
    BundledWorkload("W8 digits", "load_digits", "clf"),
    BundledWorkload("W8 diabetes (reg)", "load_diabetes", "reg"),
)
W8_BY_NAME = {w.loader.removeprefix("load_"): w for w in W8}
W8_REPEATS = 7  # at least this many repeats per W8 row (the fits take 5-300 ms)
W8_SETTLE = 0.05  # seconds of sleep before each timed W8 fit
# Target: fastmlp's default n_jobs takes at most this times n_jobs=1's time.
W8_NJOBS1_TARGET = 1.10


# ---------------------------------------------------------- W9: a grid search
@dataclass(frozen=True)
class SearchWorkload:
    """W9: ``GridSearchCV`` over a scaler + MLP pipeline on digits, with the
    search's own ``n_jobs`` (the MLP keeps its default n_jobs)."""

    id: str
    n_jobs: int
    grid: dict
    cv: int
    max_iter: int = 100

    def search(self, mlp_class):
        from sklearn.model_selection import GridSearchCV
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        pipe = Pipeline(
            [
                ("scale", StandardScaler()),
                ("mlp", mlp_class(max_iter=self.max_iter, random_state=0)),
            ]
        )
        return GridSearchCV(pipe, self.grid, cv=self.cv, n_jobs=self.n_jobs)

    def n_fits(self):
        n = 1
        for values in self.grid.values():
            n *= len(values)
        return n * self.cv + 1  # + the refit on all rows

    def data(self):
        from sklearn.datasets import load_digits

        return load_digits(return_X_y=True)


W9_GRID = {
    "mlp__hidden_layer_sizes": [(32,), (64,), (128,)],
    "mlp__alpha": [1e-4, 1e-2],
}
W9_CV = 5
W9_QUICK_GRID = {"mlp__hidden_layer_sizes": [(32,), (64,)], "mlp__alpha": [1e-4, 1e-2]}
W9_QUICK_CV = 3


def w9_workloads(quick=False):
    """The two W9 rows (search n_jobs 1 and 2); ``quick``: cv=3 and a 2x2 grid,
    which the row name says."""
    grid, cv = (W9_QUICK_GRID, W9_QUICK_CV) if quick else (W9_GRID, W9_CV)
    tag = f" [quick: cv={cv}, {len(grid['mlp__hidden_layer_sizes'])}x2 grid]"
    return tuple(
        SearchWorkload(
            f"W9 search n_jobs={n_jobs}" + (tag if quick else ""), n_jobs, grid, cv
        )
        for n_jobs in (1, 2)
    )
