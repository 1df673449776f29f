"""Feature sensitivity from ``jacobian``: which inputs does a regression model use?

Friedman's benchmark function #1,
``y = 10 sin(pi x0 x1) + 20 (x2 - 0.5)^2 + 10 x3 + 5 x4 + noise``, has ten
uniform inputs of which only x0..x4 matter. After fitting an MLPRegressor,
``jacobian(X)`` gives dy/dx for every test sample (one compiled reverse pass),
in the original units even with ``input_scaling``/``target_scaling``. The mean
absolute derivative per feature is printed beside the true one (from the
formula above) and plotted as a bar chart.

    python examples/sensitivity.py --out sensitivity.png
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from fastmlp import MLPRegressor


def true_gradient(X):
    """dy/dx of Friedman #1, shape (n_samples, 10)."""
    G = np.zeros_like(X)
    c = 10 * np.pi * np.cos(np.pi * X[:, 0] * X[:, 1])
    G[:, 0] = c * X[:, 1]
    G[:, 1] = c * X[:, 0]
    G[:, 2] = 40 * (X[:, 2] - 0.5)
    G[:, 3] = 10
    G[:, 4] = 5
    return G


def plot(path, learned, true):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install 'fastmlp[plot]').")
        return None
    features = np.arange(len(learned))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(features - 0.2, learned, width=0.4, label="MLP: mean |jacobian|")
    ax.bar(features + 0.2, true, width=0.4, label="true: mean |dy/dx|")
    ax.set_xticks(features, [f"x{j}" for j in features])
    ax.set_ylabel("mean |dy / dx_j| on test data")
    ax.set_title("Feature sensitivity, Friedman #1 (x5..x9 are noise)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"plot written to {path}")
    return path


def main(scale=1.0, out="sensitivity.png"):
    """Fit on ``4000 * scale`` samples; returns (learned, true) sensitivities."""
    n = max(300, int(4000 * scale))
    X, y = make_friedman1(n_samples=n, noise=0.5, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    reg = MLPRegressor(
        hidden_layer_sizes=(64, 64),
        input_scaling="standard",
        target_scaling="standard",
        learning_rate_init=0.003,
        max_iter=max(10, int(300 * scale)),
        random_state=0,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    J = reg.jacobian(X_test)  # (n_test, 1, 10)
    learned = np.abs(J[:, 0, :]).mean(axis=0)
    true = np.abs(true_gradient(X_test)).mean(axis=0)
    print(f"test R^2 = {reg.score(X_test, y_test):.4f} (fit {fit_time:.1f} s)")
    print("| feature | MLP mean abs(dy/dx) | true mean abs(dy/dx) |")
    print("|---|---|---|")
    for j, (a, b) in enumerate(zip(learned, true)):
        print(f"| x{j} | {a:.3f} | {b:.3f} |")
    plot(out, learned, true)
    return learned, true


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="run size (0-1]")
    parser.add_argument("--out", default="sensitivity.png", help="PNG to write")
    args = parser.parse_args()
    main(args.scale, args.out)
