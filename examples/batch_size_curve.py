"""Batch size against time: per epoch, and to reach a training loss (the U-curve).

The three forms of gradient descent are one parameter apart: batch_size=1
(online SGD), an integer (mini-batch) and the whole data set ("full", batch
gradient descent). This script trains the benchmarks' W1 network (64 features,
10 classes, one hidden layer of 100 ReLU units, Adam, float32) with fastmlp and
scikit-learn on 4096 rows at batch sizes 1, 2, 4, ..., 4096 (the last one
given as batch_size="full") and measures

* the time per epoch: an epoch costs the same arithmetic at any batch size, so
  this shows the per-step overhead (large for tiny batches, in scikit-learn a
  Python-level step per batch), falling as batches grow;
* the time to reach a training loss of 0.6: epochs needed (one partial_fit
  per epoch until the epoch's loss is below 0.6; both libraries train the same
  model for the same random_state, so they need the same epochs) times the
  time per epoch. Tiny batches pay per
  step, large batches make few updates per epoch and need many epochs: this
  is the U-shaped curve, with its minimum at moderate mini-batches.

Writes a PNG and prints a markdown table.

    python examples/batch_size_curve.py --out examples/batch_size_curve.png
"""

import argparse
import platform
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from threadpoolctl import threadpool_limits

from fastmlp import MLPClassifier

EPOCHS = 2  # per timing fit
TARGET_LOSS = 0.6
MAX_EPOCHS = 400


def params(batch_size, random_state=0):
    return dict(
        hidden_layer_sizes=(100,),
        batch_size=batch_size,
        random_state=random_state,
    )


def epoch_time(cls, X, y, batch_size, repeats, threads):
    """Best of ``repeats`` fits of EPOCHS epochs, divided by EPOCHS (seconds)."""
    kw = dict(params(batch_size), max_iter=EPOCHS)
    if cls is MLPClassifier:
        kw["n_jobs"] = threads
    best = np.inf
    with threadpool_limits(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(repeats):
            start = time.perf_counter()
            cls(**kw).fit(X, y)
            best = min(best, time.perf_counter() - start)
    return best / EPOCHS


def epochs_to_target(X, y, batch_size, threads):
    """Epochs until an epoch's mean training loss is below TARGET_LOSS (nan if
    not within MAX_EPOCHS). One partial_fit per epoch with a shared RandomState
    gives the initial weights of a fit with random_state=0 and a fresh shuffle per
    epoch (scikit-learn's partial_fit does the same)."""
    clf = MLPClassifier(**params(batch_size, np.random.RandomState(0)), n_jobs=threads)
    classes = np.unique(y)
    for epoch in range(1, MAX_EPOCHS + 1):
        clf.partial_fit(X, y, classes=classes)
        if clf.loss_ < TARGET_LOSS:
            return epoch
    return np.nan


def plot(path, sizes, times):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install 'fastmlp[plot]').")
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    epochs = np.asarray(times["epochs"], dtype=float)
    for name, marker in (("fastmlp", "o"), ("scikit-learn", "s")):
        per_epoch = np.asarray(times[name])
        ax1.plot(sizes, per_epoch, marker=marker, label=name)
        ax2.plot(sizes, per_epoch * epochs, marker=marker, label=name)
    ax1.set_ylabel("time per epoch (s)")
    ax1.set_title(f"Time per epoch ({times['n_samples']} rows)")
    ax2.set_ylabel(f"time to training loss < {TARGET_LOSS} (s)")
    ax2.set_title(f"Time to loss < {TARGET_LOSS} (epochs x time per epoch)")
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch size (1 = online SGD, last = full batch)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle(
        "W1 network: 64 features, (100,) ReLU, 10 classes, Adam, float32; "
        f"{times['threads']} thread(s) each"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"plot written to {path}")
    return path


def main(scale=1.0, out="batch_size_curve.png", threads=1):
    """Batch sizes 1, 2, 4, ... up to 4096 rows, the last one "full" (fewer, on
    less data, when scale < 1).

    ``threads`` for both libraries (fastmlp's n_jobs, scikit-learn's BLAS): one
    by default, which measures the per-step costs the curve is about and is
    robust to other work on the machine (a 2-thread step waits for its slower
    thread). Returns {"fastmlp": [...], "scikit-learn": [...]} seconds per
    epoch, and "epochs": epochs to reach TARGET_LOSS per batch size."""
    n_samples = 2 ** int(np.log2(max(256, 4096 * scale)))
    X, y = make_classification(
        n_samples=n_samples,
        n_features=64,
        n_informative=32,
        n_classes=10,
        random_state=0,
    )
    X = X.astype(np.float32)
    max_log = min(12, int(np.log2(n_samples)))
    sizes = [2**k for k in range(max_log + 1)]
    # Compile (or load from Numba's cache) before timing.
    epoch_time(MLPClassifier, X[:256], y[:256], 1, 1, threads)
    epoch_time(MLPClassifier, X[:256], y[:256], 256, 1, threads)
    times = {"fastmlp": [], "scikit-learn": [], "epochs": []}
    times.update(n_samples=n_samples, threads=threads)
    for size in sizes:
        batch_size = "full" if size == n_samples else size
        times["fastmlp"].append(epoch_time(MLPClassifier, X, y, batch_size, 3, threads))
        # scikit-learn's small batches take seconds per epoch: time them once.
        # (scikit-learn has no "full": it gets the number.)
        sk_repeats = 1 if size < 16 else 2
        times["scikit-learn"].append(
            epoch_time(SkMLPClassifier, X, y, size, sk_repeats, threads)
        )
        times["epochs"].append(epochs_to_target(X, y, batch_size, threads))
    print(
        f"{n_samples} rows, {platform.machine()}, {threads} thread(s) each; time "
        f"per epoch: best of 3 (fastmlp) / 1-2 (scikit-learn) fits of {EPOCHS} "
        f"epochs; time to loss < {TARGET_LOSS}: epochs x time per epoch"
    )
    print()
    print(
        "| batch_size | fastmlp (ms/epoch) | scikit-learn (ms/epoch) | speed-up "
        f"| epochs to loss < {TARGET_LOSS} | fastmlp (s to loss) "
        "| scikit-learn (s to loss) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for b, ours, theirs, epochs in zip(
        sizes, times["fastmlp"], times["scikit-learn"], times["epochs"]
    ):
        b = f'{b} ("full")' if b == n_samples else b
        print(
            f"| {b} | {ours * 1e3:.1f} | {theirs * 1e3:.1f} | {theirs / ours:.1f}x "
            f"| {epochs} | {ours * epochs:.3f} | {theirs * epochs:.3f} |"
        )
    print()
    plot(out, sizes, times)
    return times


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="run size (0-1]")
    parser.add_argument("--out", default="batch_size_curve.png", help="PNG to write")
    parser.add_argument("--threads", type=int, default=1, help="threads per library")
    args = parser.parse_args()
    main(args.scale, args.out, args.threads)
