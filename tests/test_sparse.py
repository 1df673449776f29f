"""Sparse X: CSR kernels against NumPy, estimator results equal to the dense path,
and no densified copy of X."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkClassifier

from fastmlp import MLPClassifier, MLPRegressor
from fastmlp._kernels.sparse import CSRRows, csr_forward, csr_weight_grad
from tests.conftest import DTYPES, TOL


def csr_batch(rng, n_rows, n_features, dtype, density=0.2):
    X = sp.random(n_rows, n_features, density=density, format="csr", random_state=1)
    X = X.astype(dtype)
    rows = rng.permutation(n_rows)[: max(1, n_rows // 2)]
    return X, CSRRows(X.data, X.indices, X.indptr, rows), rows


@pytest.mark.parametrize("shape", [(1, 1, 1), (37, 13, 5), (257, 129, 65)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_csr_forward_and_weight_grad_match_numpy(rng, dtype, shape):
    n_rows, n_features, fan_out = shape
    X, Xb, rows = csr_batch(rng, n_rows, n_features, dtype)
    W = rng.standard_normal((n_features, fan_out)).astype(dtype)
    dense = X.toarray()[rows]
    U = np.empty((rows.size, fan_out), dtype=dtype)
    csr_forward(U, Xb, W, 0, fan_out)
    assert_allclose(U, dense @ W, **TOL[dtype])
    dU = rng.standard_normal((rows.size, fan_out)).astype(dtype)
    dW = np.full((n_features, fan_out), np.nan, dtype=dtype)  # must be overwritten
    csr_weight_grad(dW, Xb, dU, 0, fan_out)
    assert_allclose(dW, dense.T @ dU, **TOL[dtype])


def quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn()


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_sparse_fit_equals_dense_fit_and_scikit_learn(rng, solver, fmt):
    X = sp.random(150, 40, density=0.15, format=fmt, random_state=0)
    y = rng.integers(0, 3, 150)
    kw = dict(hidden_layer_sizes=(12,), solver=solver, max_iter=4, random_state=0)
    sparse = quiet(lambda: MLPClassifier(**kw).fit(X, y))
    dense = quiet(lambda: MLPClassifier(**kw).fit(X.toarray(), y))
    theirs = quiet(lambda: SkClassifier(**kw).fit(X, y))
    for a, b, c in zip(sparse.coefs_, dense.coefs_, theirs.coefs_):
        assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        assert_allclose(a, c, rtol=1e-6, atol=1e-9)
    assert_allclose(
        sparse.predict_proba(X), dense.predict_proba(X.toarray()), rtol=1e-10
    )


def test_sparse_float32_and_regressor(rng):
    X = sp.random(120, 30, density=0.2, format="csr", random_state=0, dtype=np.float32)
    y = rng.standard_normal(120)
    reg = quiet(
        lambda: MLPRegressor(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(
            X, y
        )
    )
    assert reg.coefs_[0].dtype == np.float32
    assert reg.predict(X).dtype == np.float32
    dense = quiet(
        lambda: MLPRegressor(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(
            X.toarray(), y
        )
    )
    assert_allclose(reg.predict(X), dense.predict(X.toarray()), rtol=1e-4, atol=1e-5)


def test_sparse_input_is_never_densified(rng):
    """200 x 100,000 with 2,000 nonzeros: a dense float64 copy would be 160 MB;
    the first layer's weights (100,000 x 4) and its Adam moments are ~10 MB."""
    n, d = 200, 100_000
    X = sp.random(n, d, density=1e-4, format="csr", random_state=0)
    y = rng.integers(0, 2, n)
    est = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    tracemalloc.start()
    try:
        quiet(lambda: est.fit(X, y).predict_proba(X))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.25 * n * d * 8


@pytest.mark.parametrize("dtype", DTYPES)
def test_csr_column_ranges_equal_the_whole_product_bit_for_bit(rng, dtype):
    """The sparse input layer's forward product and weight gradient on
    panel-aligned column ranges (the training loop's layer phases) equal the
    whole-width calls exactly."""
    n_rows, n_features, fan_out = 37, 129, 100
    X, Xb, rows = csr_batch(rng, n_rows, n_features, dtype)
    W = rng.standard_normal((n_features, fan_out)).astype(dtype)
    dU = rng.standard_normal((rows.size, fan_out)).astype(dtype)
    nr = 128 // np.dtype(dtype).itemsize
    U, dW = np.empty((rows.size, fan_out), dtype), np.empty(W.shape, dtype)
    csr_forward(U, Xb, W, 0, fan_out)
    csr_weight_grad(dW, Xb, dU, 0, fan_out)
    Ut, dWt = np.full_like(U, np.nan), np.full_like(dW, np.nan)
    for j0 in range(0, fan_out, nr):
        csr_forward(Ut, Xb, W, j0, min(j0 + nr, fan_out))
        csr_weight_grad(dWt, Xb, dU, j0, min(j0 + nr, fan_out))
    np.testing.assert_array_equal(Ut, U)
    np.testing.assert_array_equal(dWt, dW)
