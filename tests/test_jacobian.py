"""jacobian(X) against central finite differences of predict / predict_proba, for
every hidden activation and output form, with and without input/target scaling,
and for sparse X."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from fastmlp import MLPClassifier, MLPRegressor
from fastmlp._solver import JACOBIAN_BLOCK_ROWS

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]


def fd_jacobian(f, X, eps=1e-6):
    """J[i, k, j] = (f(X + eps e_j) - f(X - eps e_j))[i, k] / (2 eps)."""
    cols = []
    for j in range(X.shape[1]):
        E = np.zeros_like(X)
        E[:, j] = eps
        cols.append((f(X + E) - f(X - E)) / (2 * eps))
    return np.stack(cols, axis=2)


def fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def data(rng, n=25, n_features=4):
    X = rng.standard_normal((n, n_features)) * [1.0, 3.0, 0.5, 2.0][:n_features]
    X += [0.0, 10.0, -2.0, 1.0][:n_features]
    return X


def check(est, X, f):
    J = est.jacobian(X)
    ref = fd_jacobian(f, X)
    assert J.shape == ref.shape and J.dtype == np.float64
    scale = max(1.0, np.abs(ref).max())
    assert_allclose(J, ref, rtol=1e-5, atol=1e-7 * scale)
    return J


@pytest.mark.parametrize("input_scaling", [None, "standard", "minmax"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_regressor_jacobian(rng, activation, input_scaling):
    X = data(rng)
    Y = np.stack([np.sin(X[:, 0]) * X[:, 1], X[:, 2] - X[:, 3] ** 2, X[:, 1]], axis=1)
    est = fit(
        MLPRegressor(
            hidden_layer_sizes=(8, 6),
            activation=activation,
            input_scaling=input_scaling,
            max_iter=30,
            learning_rate_init=0.01,
            random_state=0,
        ),
        X,
        Y,
    )
    J = check(est, X, est.predict)
    assert J.shape == (25, 3, 4)


@pytest.mark.parametrize("target_scaling", ["standard", "minmax"])
def test_regressor_jacobian_through_target_scaling(rng, target_scaling):
    X = data(rng)
    y = 1e3 * X[:, 0] + 50 * X[:, 1] ** 2 + 7e3
    est = fit(
        MLPRegressor(
            hidden_layer_sizes=(8,),
            activation="tanh",
            input_scaling="standard",
            target_scaling=target_scaling,
            max_iter=30,
            random_state=0,
        ),
        X,
        y,
    )
    f = lambda Z: est.predict(Z)[:, None]  # noqa: E731
    assert check(est, X, f).shape == (25, 1, 4)


def test_poisson_regressor_jacobian(rng):
    X = data(rng)
    y = rng.poisson(np.exp(0.3 * X[:, 0]))
    est = fit(
        MLPRegressor(
            loss="poisson", hidden_layer_sizes=(6,), max_iter=30, random_state=0
        ),
        X,
        y,
    )
    check(est, X, lambda Z: est.predict(Z)[:, None])


@pytest.mark.parametrize("input_scaling", [None, "standard"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_classifier_jacobian_of_predict_proba(rng, kind, activation, input_scaling):
    X = data(rng)
    if kind == "binary":
        y = np.where(X[:, 0] + X[:, 2] > -2, "yes", "no")
    elif kind == "multiclass":
        y = np.digitize(X[:, 0] - X[:, 3], [-2, -1, 0])
    else:
        y = np.stack([X[:, 0] > 0, X[:, 1] > 10, X[:, 2] < -2], axis=1).astype(int)
    est = fit(
        MLPClassifier(
            (7,),
            activation=activation,
            input_scaling=input_scaling,
            max_iter=30,
            learning_rate_init=0.01,
            random_state=0,
        ),
        X,
        y,
    )
    J = check(est, X, est.predict_proba)
    assert J.shape[1] == est.predict_proba(X[:1]).shape[1]
    if kind == "multiclass":  # probabilities sum to 1: their derivatives to 0
        assert_allclose(J.sum(axis=1), 0, atol=1e-12)


def test_jacobian_in_blocks_matches_row_by_row(rng):
    """More rows than one block holds (and the parallel branch): each row's
    Jacobian equals the one computed for that row alone."""
    n_out = 3
    n = JACOBIAN_BLOCK_ROWS // n_out * 2 + 7
    X = rng.standard_normal((n, 5))
    Y = X[:, :3] ** 2
    est = fit(
        MLPRegressor(hidden_layer_sizes=(64, 32), max_iter=3, random_state=0), X, Y
    )
    J = est.jacobian(X)
    for i in (0, 1, n // 2, n - 1):
        assert_allclose(J[i], est.jacobian(X[i : i + 1])[0], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("input_scaling", [None, "minmax"])
def test_sparse_jacobian_equals_dense(rng, input_scaling):
    X = sp.random(30, 6, density=0.4, format="csr", random_state=3) * 5
    y = np.asarray(X[:, 0].todense()).ravel() * 2 + 1
    est = fit(
        MLPRegressor(
            hidden_layer_sizes=(8,),
            activation="tanh",
            input_scaling=input_scaling,
            max_iter=20,
        ),
        X,
        y,
    )
    dense = X.toarray()
    assert_allclose(est.jacobian(X), est.jacobian(dense), rtol=1e-12)
    check(est, dense, lambda Z: est.predict(Z)[:, None])
    std = fit(
        MLPRegressor(hidden_layer_sizes=(4,), input_scaling="standard", max_iter=2),
        dense,
        y,
    )
    with pytest.raises(ValueError, match="densify"):
        std.jacobian(X)


def test_jacobian_dtype_and_errors(rng):
    X = data(rng).astype(np.float32)
    y = X[:, 0] * 2
    with pytest.raises(NotFittedError):
        MLPRegressor().jacobian(X)
    est = fit(
        MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, input_scaling="minmax"), X, y
    )
    assert est.jacobian(X).dtype == np.float32
    assert est.jacobian(X.astype(int)).dtype == np.float64
    with pytest.raises(ValueError, match="features"):
        est.jacobian(X[:, :3])
