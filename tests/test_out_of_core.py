"""partial_fit over chunks that never all sit in memory: a numpy.memmap read
chunk by chunk, and a dask.array block by block."""

import importlib.util
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neural_network import MLPClassifier as SkClassifier

spec = importlib.util.spec_from_file_location(
    "example_out_of_core",
    Path(__file__).resolve().parent.parent / "examples" / "out_of_core.py",
)
ooc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ooc)


def test_memmap_chunks_are_read_lazily(tmp_path):
    """Peak traced heap memory of the whole chunked training stays below an
    eighth of the file: only one chunk (and the fit's buffers) is ever held.
    (tracemalloc sees every NumPy allocation; the memmap's pages are the OS's.)"""
    n_rows, chunk_rows = 300_000, 5_000
    X, y = ooc.write_memmap(tmp_path, n_rows, chunk_rows)
    file_bytes = X.nbytes + y.nbytes
    est = ooc.make_model()
    est.partial_fit(np.array(X[:10]), np.array(y[:10]), classes=ooc.CLASSES)
    tracemalloc.start()
    try:
        ooc.train_on_memmap(est, X, y, chunk_rows)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < file_bytes / 8, (peak, file_bytes)
    # Whole-file reads would show up: a full copy of X alone is 24 MB.
    assert np.array(X).nbytes > 8 * peak
    rng = np.random.default_rng(1)
    X_test = rng.standard_normal((2000, ooc.N_FEATURES), np.float32)
    assert est.score(X_test, ooc.true_labels(X_test)) > 0.85


def test_chunked_training_matches_scikit_learn(tmp_path):
    """The same chunks through scikit-learn's partial_fit give the same model."""
    X, y = ooc.write_memmap(tmp_path, 3_000, 500)
    ours = ooc.train_on_memmap(ooc.make_model(), X, y, 500)
    theirs = ooc.train_on_memmap(
        SkClassifier(hidden_layer_sizes=(32,), random_state=0), X, y, 500
    )
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert_allclose(a, b, rtol=1e-4, atol=1e-6)  # float32 data: float32 models


def test_dask_array_blocks_match_memmap_chunks(tmp_path):
    da = pytest.importorskip("dask.array")
    X, y = ooc.write_memmap(tmp_path, 4_000, 1_000)
    Xd, yd = ooc.dask_arrays(X, y, 1_000)
    assert Xd.numblocks == (4, 1)
    on_dask = ooc.train_on_dask(ooc.make_model(), Xd, yd)
    on_memmap = ooc.train_on_memmap(ooc.make_model(), X, y, 1_000)
    for a, b in zip(on_dask.coefs_, on_memmap.coefs_):
        assert_array_equal(a, b)
    # A lazily generated dask array (never materialised as a whole) works too.
    Xr = (
        da.random.default_rng(0)
        .standard_normal((3_000, ooc.N_FEATURES), chunks=(1_000, ooc.N_FEATURES))
        .astype(np.float32)
    )
    yr = Xr.map_blocks(ooc.true_labels, drop_axis=1, dtype=np.int64)
    est = ooc.train_on_dask(ooc.make_model(), Xr, yr)
    assert est.t_ == 3_000  # every row of the three blocks was seen once


def test_dask_ml_incremental_matches_the_plain_loop(tmp_path):
    pytest.importorskip("dask_ml")
    X, y = ooc.write_memmap(tmp_path, 3_000, 1_000)
    Xd, yd = ooc.dask_arrays(X, y, 1_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # dask-ml's own imports
        model, reason = ooc.train_with_incremental(Xd, yd)
    assert reason is None, reason
    reference = ooc.train_on_memmap(ooc.make_model(), X, y, 1_000)
    for a, b in zip(model.coefs_, reference.coefs_):
        assert_array_equal(a, b)
