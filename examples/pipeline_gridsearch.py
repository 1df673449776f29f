"""Pipeline + GridSearchCV: fastmlp inside scikit-learn's model selection.

A ``Pipeline(StandardScaler, MLPClassifier)`` tuned by ``GridSearchCV`` over
``hidden_layer_sizes`` and ``alpha`` on the bundled breast-cancer data: the
estimator clones, validates its parameters and scores like any scikit-learn
estimator. Prints the cross-validation table and the held-out score of the best
model.

    python examples/pipeline_gridsearch.py
"""

import argparse
import time
import warnings

from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from fastmlp import MLPClassifier


def main(scale=1.0):
    """Run the grid search (``scale`` < 1: fewer epochs and a smaller grid)."""
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, stratify=y, random_state=0
    )
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("mlp", MLPClassifier(max_iter=max(5, int(200 * scale)), random_state=0)),
        ]
    )
    grid = {
        "mlp__hidden_layer_sizes": [(16,), (64,), (64, 32)],
        "mlp__alpha": [1e-4, 1e-2, 1.0],
    }
    if scale < 1:
        grid = {k: v[:2] for k, v in grid.items()}
    search = GridSearchCV(pipe, grid, cv=3)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X_train, y_train)
    elapsed = time.perf_counter() - start
    res = search.cv_results_
    print("| hidden_layer_sizes | alpha | mean CV accuracy | std |")
    print("|---|---|---|---|")
    for params, mean, std in zip(
        res["params"], res["mean_test_score"], res["std_test_score"]
    ):
        print(
            f"| {params['mlp__hidden_layer_sizes']} | {params['mlp__alpha']:g} "
            f"| {mean:.4f} | {std:.4f} |"
        )
    print(f"best: {search.best_params_} (search took {elapsed:.1f} s)")
    test_score = search.score(X_test, y_test)
    print(f"held-out accuracy of the refitted best pipeline: {test_score:.4f}")
    return search


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="run size (0-1]")
    main(parser.parse_args().scale)
