"""What fastmlp's model features beyond scikit-learn (issue 14) and its
training controls (issue 15) cost.

    python bench/features.py                 # W1 and W2, median of 5 fits each
    python bench/features.py --repeats 7 --workloads W1

Each workload is fitted with its own parameters (bench/README.md) and then with
one feature added: an activation of fastmlp's, dropout, AdamW, a cosine
schedule with warm-up, gradient clipping, a validation set (the test rows, as
``X_val``) scored each epoch by its loss (compiled) or by a scorer (Python, one
epoch per compiled call), class_weight (W1, a classifier) or a regression loss
(W2). fastmlp alone, after a warm-up fit that
compiles the kernels (the features' kernel, _kernels/extended.py, included), so
the ratios are of training time only; the test score is printed beside them.
"""

import argparse
import statistics
import time
import warnings

import workloads

import fastmlp

VALIDATE = "X_val"  # a variant fitted with the test rows as its validation set

COMMON = {
    "default": {},
    "gelu": {"activation": "gelu"},
    "silu": {"activation": "silu"},
    "leaky_relu": {"activation": "leaky_relu"},
    "dropout 0.2": {"dropout": 0.2},
    "AdamW 0.01": {"weight_decay": 0.01},
    "cosine + warmup": {"lr_schedule": "cosine", "warmup": 0.1},
    "clip 1.0": {"max_grad_norm": 1.0},
    "X_val, loss": {"scoring": "loss", VALIDATE: True},
}
BY_TASK = {
    "clf": {
        "X_val, scorer": {"scoring": "balanced_accuracy", VALIDATE: True},
        "class_weight": {"class_weight": "balanced"},
    },
    "reg": {
        "X_val, scorer": {"scoring": "neg_mean_absolute_error", VALIDATE: True},
        "huber": {"loss": "huber"},
        "quantile": {"loss": "quantile", "quantile": 0.9},
    },
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", default=["W1", "W2"])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    print("| workload | variant | fit (s), median | vs default | test score |")
    print("|---|---|---|---|---|")
    for key in args.workloads:
        w = workloads.WORKLOADS[key]
        X, X_test, y, y_test = w.data()
        cls = fastmlp.MLPClassifier if w.task == "clf" else fastmlp.MLPRegressor
        base = None
        for name, extra in {**COMMON, **BY_TASK[w.task]}.items():
            params = dict(w.params(), **extra)
            fit_kw = {}
            if params.pop(VALIDATE, False):
                fit_kw = {"X_val": X_test, "y_val": y_test}
            cls(**dict(params, max_iter=1)).fit(X[:500], y[:500], **fit_kw)  # compile
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                model = cls(**params).fit(X, y, **fit_kw)
                times.append(time.perf_counter() - start)
            median = statistics.median(times)
            base = base or median
            score = model.score(X_test, y_test)
            print(f"| {w.id} | {name} | {median:.3f} | {median / base:.2f}x "
                  f"| {score:.4f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
