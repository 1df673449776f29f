"""Training control beyond scikit-learn's MLP: AdamW, a cosine schedule with
warm-up, gradient clipping, a given validation set scored by its loss, and
scikit-learn's ProgressBar callback.

On the handwritten digits bundled with scikit-learn (64 pixel features, 10
classes), two MLPClassifiers are trained on the same rows with early stopping
on the same given validation set, watched with ``scoring="loss"`` (the negated
validation log-loss, higher is better):

* plain Adam at a constant learning rate (scikit-learn's model), and
* AdamW (``weight_decay``) with ``lr_schedule="cosine"`` after a linear
  ``warmup``, and ``max_grad_norm`` clipping.

The script prints each model's epochs, best validation loss and test accuracy,
and plots the learning rate and the validation loss per epoch:

    python examples/training_control.py --plot training_control.png

With scikit-learn >= 1.9 and ``rich`` installed, scikit-learn's ProgressBar
(``sklearn.callback``) shows each fit's epochs (``--no-progress``: none).
"""

import argparse
import math
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

from fastmlp import MLPClassifier


def learning_rates(est, n_train):
    """The learning rate at the last step of each epoch, from the documented
    formula of ``lr_schedule`` and ``warmup``: step t of T = max_iter x steps
    per epoch uses learning_rate_init * s(t)."""
    steps = math.ceil(n_train / min(200, n_train))  # batch_size='auto'
    total = est.max_iter * steps
    warm = round((est.warmup or 0.0) * total)
    rates = []
    for epoch in range(est.n_iter_):
        t = (epoch + 1) * steps - 1
        if t < warm:
            s = (t + 1) / warm
        elif est.lr_schedule is None:
            s = 1.0
        else:
            f = min((t - warm) / (total - warm), 1.0)
            s = (
                (1 + math.cos(math.pi * f)) / 2
                if est.lr_schedule == "cosine"
                else 1 - f
            )
        rates.append(est.learning_rate_init * s)
    return rates


def progress_bar():
    """scikit-learn's ProgressBar callback, or None where it is unavailable
    (scikit-learn < 1.9, or no ``rich``)."""
    try:
        import rich  # noqa: F401
        from sklearn.callback import ProgressBar
    except ImportError:
        print("(no ProgressBar: it needs scikit-learn >= 1.9 and rich)")
        return None
    return ProgressBar()


def plot(path, models, n_train):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install 'fastmlp[plot]').")
        return None
    fig, (ax_lr, ax_val) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, est in models.items():
        epochs = np.arange(1, est.n_iter_ + 1)
        ax_lr.plot(epochs, learning_rates(est, n_train), label=name)
        ax_val.plot(epochs, -np.asarray(est.validation_scores_), label=name)
    ax_lr.set_xlabel("epoch")
    ax_lr.set_ylabel("learning rate (last step of the epoch)")
    ax_val.set_xlabel("epoch")
    ax_val.set_ylabel("validation log-loss")
    ax_val.set_yscale("log")
    for ax in (ax_lr, ax_val):
        ax.legend(fontsize=8)
    fig.suptitle("digits: Adam vs AdamW + cosine schedule with warm-up + clipping")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"plot written to {path}")
    return path


def main(scale=1.0, plot_path=None, progress=True):
    """Train both models (``max_iter`` = 120 x scale epochs); returns them with
    the data splits."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=0.2, stratify=y_rest, random_state=0
    )
    common = dict(
        hidden_layer_sizes=(128,),
        max_iter=max(10, int(120 * scale)),
        early_stopping=True,
        scoring="loss",
        n_iter_no_change=15,
        tol=0.0,
        random_state=0,
    )
    models = {
        "Adam, constant rate": MLPClassifier(learning_rate_init=3e-3, **common),
        "AdamW + cosine + warm-up + clipping": MLPClassifier(
            learning_rate_init=1e-2,
            weight_decay=1e-2,
            lr_schedule="cosine",
            warmup=0.1,
            max_grad_norm=1.0,
            **common,
        ),
    }
    print("| model | epochs | best validation log-loss | test accuracy |")
    print("|---|---|---|---|")
    for name, est in models.items():
        bar = progress_bar() if progress else None
        if bar is not None:
            est.set_callbacks(bar)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X_train, y_train, X_val=X_val, y_val=y_val)
        accuracy = accuracy_score(y_test, est.predict(X_test))
        print(
            f"| {name} | {est.n_iter_} | {-est.best_validation_score_:.4f} "
            f"| {accuracy:.4f} |"
        )
    if plot_path is not None:
        plot(plot_path, models, len(y_train))
    return {
        "models": models,
        "validation": (X_val, y_val),
        "test": (X_test, y_test),
        "n_train": len(y_train),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="run size (0-1]")
    parser.add_argument("--plot", metavar="PNG", help="write a figure to this file")
    parser.add_argument(
        "--no-progress", action="store_true", help="no scikit-learn ProgressBar"
    )
    args = parser.parse_args()
    main(args.scale, args.plot, not args.no_progress)
