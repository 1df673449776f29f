"""Out-of-core training: ``partial_fit`` over chunks of data that never sit in
memory all at once.

A classification problem is written to disk chunk by chunk as a ``numpy.memmap``
(2 million rows x 20 float32 features, 160 MB, at full size), then trained on
three ways, each holding one chunk in memory at a time:

1. slices of the memmap, one ``partial_fit`` per chunk;
2. the same file as a ``dask.array``, computed block by block (``.blocks``), which
   is how data larger than memory, or spread over a cluster's disks, is fed in;
3. ``dask_ml.wrappers.Incremental`` where dask-ml is installed and works with the
   installed scikit-learn (it calls ``partial_fit`` block by block itself).

All three see the same chunks in the same order, so they train the same model.
Run: ``python examples/out_of_core.py``.
"""

import tempfile
import time
from pathlib import Path

import numpy as np

from fastmlp import MLPClassifier

N_FEATURES = 20
CLASSES = np.arange(3)


def true_labels(X):
    """The classes of the synthetic problem: argmax of three fixed linear scores,
    one of them through a nonlinearity."""
    rng = np.random.default_rng(42)
    W = rng.standard_normal((X.shape[1], 3)).astype(X.dtype)
    scores = X @ W
    scores[:, 2] = np.abs(scores[:, 2]) - 0.5
    return scores.argmax(axis=1)


def write_memmap(folder, n_rows, chunk_rows, seed=0):
    """X (n_rows, N_FEATURES) float32 and y (n_rows,) int64 on disk as memmaps,
    written one chunk at a time (the whole X is never in memory)."""
    folder = Path(folder)
    X = np.memmap(
        folder / "X.f32", dtype=np.float32, mode="w+", shape=(n_rows, N_FEATURES)
    )
    y = np.memmap(folder / "y.i64", dtype=np.int64, mode="w+", shape=(n_rows,))
    for i, start in enumerate(range(0, n_rows, chunk_rows)):
        stop = min(start + chunk_rows, n_rows)
        rng = np.random.default_rng([seed, i])
        X[start:stop] = rng.standard_normal((stop - start, N_FEATURES), np.float32)
        y[start:stop] = true_labels(X[start:stop])
    X.flush()
    y.flush()
    del X, y
    return open_memmap(folder, n_rows)


def open_memmap(folder, n_rows):
    """The arrays of write_memmap, opened read-only (nothing is read yet)."""
    folder = Path(folder)
    X = np.memmap(
        folder / "X.f32", dtype=np.float32, mode="r", shape=(n_rows, N_FEATURES)
    )
    y = np.memmap(folder / "y.i64", dtype=np.int64, mode="r", shape=(n_rows,))
    return X, y


def make_model():
    return MLPClassifier(hidden_layer_sizes=(32,), random_state=0)


def train_on_memmap(est, X, y, chunk_rows):
    """One partial_fit per chunk; each chunk is copied out of the file."""
    for start in range(0, X.shape[0], chunk_rows):
        stop = min(start + chunk_rows, X.shape[0])
        est.partial_fit(
            np.array(X[start:stop]), np.array(y[start:stop]), classes=CLASSES
        )
    return est


def train_on_dask(est, X, y):
    """One partial_fit per block of dask arrays X and y (same row chunks)."""
    for Xb, yb in zip(X.blocks, y.blocks):
        est.partial_fit(Xb.compute(), yb.compute(), classes=CLASSES)
    return est


def dask_arrays(X, y, chunk_rows):
    import dask.array as da

    return (
        da.from_array(X, chunks=(chunk_rows, N_FEATURES)),
        da.from_array(y, chunks=chunk_rows),
    )


def train_with_incremental(X, y):
    """dask-ml's Incremental wrapper around the model: it calls partial_fit on
    each block. Returns (model, None), or (None, reason) when it cannot run."""
    try:
        from dask_ml.wrappers import Incremental
    except ImportError as exc:
        return None, f"dask-ml is not installed ({exc})"
    try:
        wrapper = Incremental(make_model(), shuffle_blocks=False)
        wrapper.fit(X, y, classes=CLASSES)
    except Exception as exc:  # an incompatibility of dask-ml with this scikit-learn
        return None, f"dask-ml's Incremental failed: {type(exc).__name__}: {exc}"
    return wrapper.estimator_, None


def main(scale=1.0, folder=None, chunk_rows=20_000):
    """Train on int(2e6 * scale) rows; returns a dict of held-out accuracies
    ("memmap", "dask", and "dask-ml" or a "dask-ml skipped" reason)."""
    n_rows = max(chunk_rows, int(2_000_000 * scale))
    rng = np.random.default_rng(123)
    X_test = rng.standard_normal((5_000, N_FEATURES), np.float32)
    y_test = true_labels(X_test)
    results = {}
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        t0 = time.perf_counter()
        X, y = write_memmap(tmp, n_rows, chunk_rows)
        size_mb = (X.nbytes + y.nbytes) / 2**20
        print(
            f"wrote {n_rows} rows ({size_mb:.0f} MB) in {time.perf_counter() - t0:.1f} s"
        )

        t0 = time.perf_counter()
        est = train_on_memmap(make_model(), X, y, chunk_rows)
        results["memmap"] = est.score(X_test, y_test)
        print(
            f"memmap chunks:   accuracy {results['memmap']:.4f} "
            f"({time.perf_counter() - t0:.1f} s, {chunk_rows} rows per chunk)"
        )
        try:
            Xd, yd = dask_arrays(X, y, chunk_rows)
        except ImportError:
            print("dask is not installed (pip install 'dask[array]'): skipping dask")
        else:
            t0 = time.perf_counter()
            est_dask = train_on_dask(make_model(), Xd, yd)
            results["dask"] = est_dask.score(X_test, y_test)
            same = all(
                np.array_equal(a, b) for a, b in zip(est.coefs_, est_dask.coefs_)
            )
            print(
                f"dask.array blocks: accuracy {results['dask']:.4f} "
                f"({time.perf_counter() - t0:.1f} s; same weights as memmap: {same})"
            )
            model, reason = train_with_incremental(Xd, yd)
            if model is None:
                results["dask-ml skipped"] = reason
                print("dask-ml Incremental skipped:", reason)
            else:
                results["dask-ml"] = model.score(X_test, y_test)
                same = all(
                    np.array_equal(a, b) for a, b in zip(est.coefs_, model.coefs_)
                )
                print(
                    f"dask-ml Incremental: accuracy {results['dask-ml']:.4f} "
                    f"(same weights as memmap: {same})"
                )
        del X, y
    return results


if __name__ == "__main__":
    main()
