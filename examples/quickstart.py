"""Quickstart: fit, predict and score on scikit-learn's bundled digits data.

fastmlp's MLPClassifier is a drop-in replacement for scikit-learn's: the same
parameters and attributes, the same model for the same ``random_state``. This
script trains both on the 8x8 digit images and prints accuracy and fit time,
then shows ``input_scaling``, fastmlp's built-in input normalisation.

    python examples/quickstart.py
"""

import argparse
import time
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

from fastmlp import MLPClassifier


def main(scale=1.0):
    """Train on the digits (``scale`` < 1: fewer epochs, for the test suite)."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    epochs = max(5, int(100 * scale))
    kw = dict(hidden_layer_sizes=(64,), max_iter=epochs, random_state=0)
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Compile (or load from Numba's cache) outside the timed fits.
        MLPClassifier(**dict(kw, max_iter=1)).fit(X_train, y_train)
        models = [
            ("fastmlp", MLPClassifier(**kw)),
            ("scikit-learn", SkMLPClassifier(**kw)),
            (
                "fastmlp, input_scaling='minmax'",
                MLPClassifier(**kw, input_scaling="minmax"),
            ),
        ]
        print("| model | accuracy | fit time (s) |")
        print("|---|---|---|")
        for name, model in models:
            start = time.perf_counter()
            model.fit(X_train, y_train)
            elapsed = time.perf_counter() - start
            accuracy = model.score(X_test, y_test)
            results[name] = accuracy
            print(f"| {name} | {accuracy:.4f} | {elapsed:.3f} |")
    clf = models[0][1]
    print(
        "first test image predicted as", clf.predict(X_test[:1])[0], "- true", y_test[0]
    )
    print("its class probabilities:", clf.predict_proba(X_test[:1]).round(3))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="run size (0-1]")
    main(parser.parse_args().scale)
