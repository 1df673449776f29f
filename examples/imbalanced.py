"""Imbalanced classes: ``class_weight='balanced'`` trades accuracy for minority recall.

Three classes at 90 / 7 / 3 percent: a plain fit learns that the rare classes
rarely pay off and misses many of them. ``class_weight='balanced'`` weights each
sample by ``n_samples / (n_classes * count(its class))`` in the loss, so every
class carries the same total weight. It is exactly the same training as passing
``sample_weight=compute_sample_weight('balanced', y)``: the script fits that
too and checks the weights are identical. The table shows per-class recall,
balanced accuracy (the mean recall) and plain accuracy on a stratified test set.

    python examples/imbalanced.py
"""

import argparse
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, balanced_accuracy_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from fastmlp import MLPClassifier

WEIGHTS = [0.9, 0.07, 0.03]


def main(scale=1.0):
    """Fit on ``20000 * scale`` samples; returns scores, weights and models."""
    n = max(1000, int(20000 * scale))
    X, y = make_classification(
        n_samples=n,
        n_features=20,
        n_informative=4,
        n_redundant=2,
        n_classes=3,
        n_clusters_per_class=2,
        weights=WEIGHTS,
        class_sep=0.8,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    # Scaled outside the estimator, so all three models see the same inputs
    # (input_scaling's statistics would honour each model's sample weights).
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    kw = dict(hidden_layer_sizes=(32,), max_iter=200, random_state=0)
    balanced = compute_sample_weight("balanced", y_train)
    fits = [
        ("plain", MLPClassifier(**kw), None),
        ("class_weight='balanced'", MLPClassifier(**kw, class_weight="balanced"), None),
        ("sample_weight=balanced", MLPClassifier(**kw), balanced),
    ]
    print(f"training class counts: {np.bincount(y_train).tolist()}")
    print("| model | recall 0 | recall 1 | recall 2 | balanced acc. | accuracy |")
    print("|---|---|---|---|---|---|")
    results = {"recall": {}, "balanced_accuracy": {}, "accuracy": {}}
    models = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, model, sample_weight in fits:
            model.fit(X_train, y_train, sample_weight=sample_weight)
            pred = model.predict(X_test)
            recall = recall_score(y_test, pred, average=None)
            bal = balanced_accuracy_score(y_test, pred)
            acc = accuracy_score(y_test, pred)
            results["recall"][name] = recall
            results["balanced_accuracy"][name] = bal
            results["accuracy"][name] = acc
            models[name] = model
            cells = " | ".join(f"{r:.3f}" for r in recall)
            print(f"| {name} | {cells} | {bal:.3f} | {acc:.3f} |")
    a, b = models["class_weight='balanced'"], models["sample_weight=balanced"]
    results["coefs"] = {"class_weight": a.coefs_, "sample_weight": b.coefs_}
    results["models"] = models
    results["train"], results["test"] = (X_train, y_train), (X_test, y_test)
    same = all(np.array_equal(u, v) for u, v in zip(a.coefs_, b.coefs_))
    print(f"class_weight and sample_weight give identical weights: {same}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="run size (0-1]")
    main(parser.parse_args().scale)
