"""Online learning: ``partial_fit`` on a stream of mini-batches, with a running score.

Data arrive in chunks (here drawn from a fixed ``make_classification``
problem). Each chunk is first used to test the current model and then to train
it ("test-then-train", or prequential, evaluation), so the running accuracy is
always measured on data the model has not seen. Each ``partial_fit`` call is
one pass over the chunk in mini-batches of ``batch_size`` rows
(``batch_size="full"`` would make it a single step on the whole chunk, and 1
online SGD).

    python examples/online_learning.py
"""

import argparse
import time

import numpy as np
from sklearn.datasets import make_classification

from fastmlp import MLPClassifier


def stream(n_chunks, chunk_rows, seed=0):
    """Yield (X, y) chunks of a fixed classification problem."""
    X, y = make_classification(
        n_samples=n_chunks * chunk_rows,
        n_features=20,
        n_informative=10,
        n_classes=3,
        random_state=seed,
    )
    for start in range(0, len(X), chunk_rows):
        yield X[start : start + chunk_rows], y[start : start + chunk_rows]


def main(scale=1.0):
    """Stream ``400 * scale`` chunks of 100 rows; returns the running accuracies."""
    n_chunks = max(10, int(400 * scale))
    clf = MLPClassifier(
        hidden_layer_sizes=(64,),
        batch_size=20,
        learning_rate_init=0.002,
        input_scaling="standard",  # statistics of the first chunk, then kept
        random_state=0,
    )
    classes = np.array([0, 1, 2])
    correct = seen = 0
    running = []
    start = time.perf_counter()
    print("| chunks seen | rows seen | running accuracy | last 10 chunks |")
    print("|---|---|---|---|")
    recent = []
    for i, (X, y) in enumerate(stream(n_chunks, 100)):
        if i > 0:  # test on the new chunk before training on it
            hits = int((clf.predict(X) == y).sum())
            correct += hits
            seen += len(y)
            recent = (recent + [hits / len(y)])[-10:]
            running.append(correct / seen)
        clf.partial_fit(X, y, classes=classes if i == 0 else None)
        if i > 0 and (i % max(1, n_chunks // 8) == 0 or i == n_chunks - 1):
            print(f"| {i} | {seen} | {running[-1]:.4f} | {np.mean(recent):.4f} |")
    elapsed = time.perf_counter() - start
    print(f"{n_chunks} partial_fit calls and predictions in {elapsed:.2f} s")
    return running


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="run size (0-1]")
    main(parser.parse_args().scale)
