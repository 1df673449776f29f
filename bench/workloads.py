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
