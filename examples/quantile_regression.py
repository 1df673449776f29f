"""Prediction intervals from quantile regression: ``loss='quantile'``.

With ``loss='quantile'`` an MLPRegressor minimises the pinball loss, whose
minimiser is the ``quantile``-th conditional quantile of y given x rather than
its mean. The data are heteroscedastic, ``y = x sin(x) + noise`` with a noise
standard deviation that grows with x, so a good interval must widen to the
right. Three fits (quantile 0.05, 0.5 and 0.95) give a median and a 90 %
interval; on held-out data the script prints the share of targets below each
quantile prediction (ideally the quantile itself), the interval's coverage
(ideally 0.9) and its mean width, overall and in each third of the x range.

    python examples/quantile_regression.py --plot quantiles.png
"""

import argparse
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from fastmlp import MLPRegressor

QUANTILES = (0.05, 0.5, 0.95)


def make_data(n, seed=0):
    """x uniform in [0, 10]; noise std 0.2 + 0.25 x (0.2 at x=0, 2.7 at x=10)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, n)
    y = x * np.sin(x) + rng.normal(0, 1, n) * (0.2 + 0.25 * x)
    return x.reshape(-1, 1), y


def plot(path, X_test, y_test, models):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install 'fastmlp[plot]').")
        return None
    grid = np.linspace(0, 10, 500).reshape(-1, 1)
    lo, mid, hi = (models[q].predict(grid) for q in QUANTILES)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter(X_test[:, 0], y_test, s=4, color="0.6", label="test data")
    ax.fill_between(grid[:, 0], lo, hi, alpha=0.3, label="90 % interval (q05-q95)")
    ax.plot(grid[:, 0], mid, color="C3", label="median (q50)")
    ax.plot(grid[:, 0], grid[:, 0] * np.sin(grid[:, 0]), "k--", lw=1, label="x sin x")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("MLPRegressor(loss='quantile') on heteroscedastic data")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"plot written to {path}")
    return path


def main(scale=1.0, plot_path=None):
    """Fit on ``6000 * scale`` samples; returns coverage, shares below, models."""
    X, y = make_data(max(500, int(6000 * scale)))
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0
    )
    # The pinball loss's gradient does not shrink near the optimum, so the
    # epoch loss jitters: all 300 epochs are run (no early no-change stop).
    kw = dict(
        hidden_layer_sizes=(64, 64),
        input_scaling="standard",
        target_scaling="standard",
        max_iter=300,
        n_iter_no_change=300,
        random_state=0,
    )
    models = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for q in QUANTILES:
            models[q] = MLPRegressor(loss="quantile", quantile=q, **kw)
            models[q].fit(X_train, y_train)
    pred = {q: models[q].predict(X_test) for q in QUANTILES}
    below = {q: float(np.mean(y_test < pred[q])) for q in QUANTILES}
    lo, hi = pred[QUANTILES[0]], pred[QUANTILES[-1]]
    inside = (lo <= y_test) & (y_test <= hi)
    print("| quantile | share of test targets below the prediction |")
    print("|---|---|")
    for q in QUANTILES:
        print(f"| {q} | {below[q]:.3f} |")
    print()
    print("| x range | coverage of [q05, q95] | mean width |")
    print("|---|---|---|")
    e = [0, 10 / 3, 20 / 3, 10]
    thirds = np.digitize(X_test[:, 0], e[1:3])
    rows = [("all", np.ones_like(inside))]
    rows += [(f"[{e[k]:.3g}, {e[k + 1]:.3g})", thirds == k) for k in range(3)]
    widths = {}
    for name, mask in rows:
        widths[name] = float(np.mean(hi[mask] - lo[mask]))
        print(f"| {name} | {np.mean(inside[mask]):.3f} | {widths[name]:.2f} |")
    if plot_path is not None:
        plot(plot_path, X_test, y_test, models)
    return {
        "below": below,
        "coverage": float(np.mean(inside)),
        "mean_width": widths["all"],
        "width_by_third": [widths[name] for name, _ in rows[1:]],
        "models": models,
        "test": (X_test, y_test),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="run size (0-1]")
    parser.add_argument("--plot", metavar="PNG", help="write a figure to this file")
    args = parser.parse_args()
    main(args.scale, args.plot)
