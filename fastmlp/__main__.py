"""``python -m fastmlp``: train on bundled data beside scikit-learn and compare.

Trains ``fastmlp.MLPClassifier`` and ``sklearn.neural_network.MLPClassifier`` with
the same parameters and ``random_state`` on scikit-learn's digits data (bundled,
no download), and prints held-out accuracy and fit time (median of repeats,
after one warm-up fit that also pays Numba's one-off compile).
"""

import argparse
import sys
import time
import warnings

import numpy as np


def _median_fit_time(make, X, y, repeats):
    times = []
    model = None
    for _ in range(repeats):
        model = make()
        start = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - start)
    return model, float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m fastmlp", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--hidden",
        type=int,
        nargs="+",
        default=[100],
        help="hidden layer sizes (default: 100)",
    )
    parser.add_argument("--solver", choices=["adam", "sgd", "lbfgs"], default="adam")
    parser.add_argument("--max-iter", type=int, default=100)
    parser.add_argument("--batch-size", default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    args = parser.parse_args(argv)

    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier as SkMLPClassifier

    import fastmlp

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(args.dtype)  # pixel values 0..16 scaled to [0, 1]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    batch_size = args.batch_size if args.batch_size == "auto" else int(args.batch_size)
    params = dict(
        hidden_layer_sizes=tuple(args.hidden),
        solver=args.solver,
        max_iter=args.max_iter,
        batch_size=batch_size,
        random_state=0,
    )
    print(
        f"digits: {X_train.shape[0]} train / {X_test.shape[0]} test samples, "
        f"{X.shape[1]} features, 10 classes, {args.dtype}"
    )
    print(f"MLPClassifier({', '.join(f'{k}={v!r}' for k, v in params.items())})\n")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        fastmlp.MLPClassifier(**params).fit(X_train, y_train)
        first = time.perf_counter() - start
        ours, t_ours = _median_fit_time(
            lambda: fastmlp.MLPClassifier(**params), X_train, y_train, args.repeats
        )
        theirs, t_theirs = _median_fit_time(
            lambda: SkMLPClassifier(**params), X_train, y_train, args.repeats
        )

    acc_ours = ours.score(X_test, y_test)
    acc_theirs = theirs.score(X_test, y_test)
    rows = [
        ("fastmlp", acc_ours, t_ours, ours.n_iter_),
        ("scikit-learn", acc_theirs, t_theirs, theirs.n_iter_),
    ]
    print(f"| {'model':<12} | accuracy | fit time (s) | epochs |")
    print(f"|{'-' * 14}|----------|--------------|--------|")
    for name, acc, t, n_iter in rows:
        print(f"| {name:<12} | {acc:8.4f} | {t:12.4f} | {n_iter:6d} |")
    print(f"\nspeed-up: {t_theirs / t_ours:.1f}x (median of {args.repeats} fits each)")
    print(f"accuracy difference: {acc_ours - acc_theirs:+.4f}")
    print(
        f"first fastmlp fit in this process, including Numba compile or cache "
        f"load: {first:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
