"""fastmlp's model features beyond scikit-learn (issue 14) and its training
controls (issue 15) on W1 and W2: the fit time with each added to the
workload's parameters (bench/features.py prints the same as ratios to the
default)."""

from .common import SCALE, WORKLOADS, estimator, quiet_fit

VARIANTS = {
    "default": {},
    "gelu": {"activation": "gelu"},
    "silu": {"activation": "silu"},
    "leaky_relu": {"activation": "leaky_relu"},
    "dropout": {"dropout": 0.2},
    "per_layer": {"activation": ("gelu", "relu")},  # W2: two hidden layers
    "class_weight": {"class_weight": "balanced"},
    "huber": {"loss": "huber"},
    "quantile": {"loss": "quantile", "quantile": 0.9},
    "adamw": {"weight_decay": 0.01},
    "cosine_warmup": {"lr_schedule": "cosine", "warmup": 0.1},
    "clip": {"max_grad_norm": 1.0},
}
CLASSIFIER_ONLY = {"class_weight"}
REGRESSOR_ONLY = {"huber", "quantile", "per_layer"}


class FitFeatures:
    params = (["W1", "W2"], list(VARIANTS))
    param_names = ["workload", "variant"]
    timeout = 600

    def setup(self, key, variant):
        self.w = WORKLOADS[key]
        if (self.w.task == "clf" and variant in REGRESSOR_ONLY) or (
            self.w.task == "reg" and variant in CLASSIFIER_ONLY
        ):
            raise NotImplementedError  # asv: skip this combination
        self.X, _, self.y, _ = self.w.data(SCALE)
        self.cls = estimator("fastmlp", self.w.task)
        self.params = dict(self.w.params(), **VARIANTS[variant])
        quiet_fit(self.cls(**dict(self.params, max_iter=1)), self.X[:300], self.y[:300])

    def time_fit(self, key, variant):
        quiet_fit(self.cls(**self.params), self.X, self.y)
