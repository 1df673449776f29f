"""input_scaling and target_scaling against independent references: the statistics
against NumPy formulas, and the fitted models against scikit-learn's MLP trained
on data scaled by NumPy (or scikit-learn's StandardScaler)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from fastmlp import MLPClassifier, MLPRegressor
from fastmlp._scaling import STATS_BLOCK_ROWS, fit_scaling

KW = dict(hidden_layer_sizes=(7,), max_iter=5, random_state=0, learning_rate_init=0.01)


def quiet_fit(est, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kw)


def make_data(rng, n=80, dtype=np.float64):
    """Features on very different scales and offsets, one of them constant."""
    X = rng.standard_normal((n, 5)) * [1.0, 50.0, 0.01, 3.0, 0.0] + [0, 200, -1, 5, 7]
    y = X[:, 0] + 0.02 * X[:, 1] + 100 * X[:, 2] + rng.standard_normal(n) * 0.1
    return X.astype(dtype), y


def numpy_stats(X, method, sw=None):
    """The documented statistics, written out with NumPy."""
    X = np.asarray(X, dtype=np.float64)
    w = np.ones(len(X)) if sw is None else np.asarray(sw, dtype=np.float64)
    if method == "standard":
        mean = (w[:, None] * X).sum(0) / w.sum()
        std = np.sqrt((w[:, None] * (X - mean) ** 2).sum(0) / w.sum())
        return mean, np.where(np.ptp(X[w != 0], axis=0) == 0, 1.0, std)
    lo, hi = X[w != 0].min(0), X[w != 0].max(0)
    return lo, np.where(hi == lo, 1.0, hi - lo)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("method", ["standard", "minmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_input_statistics_match_numpy(rng, method, weighted, dtype):
    X, y = make_data(rng, dtype=dtype)
    sw = rng.uniform(0.5, 2, len(X)) if weighted else None
    if weighted:
        sw[:5] = 0  # rows with weight 0 take no part in min/max
        X[:5, 0] = 1e3
    X_given = X.copy()
    est = quiet_fit(MLPRegressor(input_scaling=method, **KW), X, y, sample_weight=sw)
    est.predict(X)
    assert_array_equal(X, X_given)  # fit and predict scale a copy
    offset, scale = numpy_stats(X, method, sw)
    assert est.input_offset_.dtype == dtype and est.input_scale_.dtype == dtype
    assert_allclose(est.input_offset_, offset.astype(dtype), rtol=1e-6)
    assert_allclose(est.input_scale_, scale.astype(dtype), rtol=1e-6)
    assert est.input_scale_[4] == 1  # the constant feature
    assert np.isfinite(est.predict(X)).all()


def test_no_scaling_means_no_attributes_and_no_copy(rng):
    X, y = make_data(rng)
    est = quiet_fit(MLPRegressor(**KW), X, y)
    assert not hasattr(est, "input_scale_") and not hasattr(est, "target_scale_")
    assert est._transform_input(X) is X
    # A refit without the option drops the previous fit's statistics.
    est.set_params(input_scaling="standard", target_scaling="minmax")
    quiet_fit(est, X, y)
    assert hasattr(est, "input_scale_") and hasattr(est, "target_scale_")
    est.set_params(input_scaling=None, target_scaling=None)
    quiet_fit(est, X, y)
    assert not hasattr(est, "input_scale_") and not hasattr(est, "target_scale_")


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("weighted", [False, True])
def test_standard_input_scaling_matches_standard_scaler_and_sklearn(
    rng, weighted, solver
):
    # Without the constant column: StandardScaler's weighted variance of it can
    # round below 0 (a RuntimeWarning in its sqrt).
    X, y = make_data(rng)
    X, X_test = X[:, :4], make_data(rng, n=30)[0][:, :4]
    sw = rng.uniform(0.5, 2, len(X)) if weighted else None
    kw = dict(KW, solver=solver)
    ours = quiet_fit(
        MLPRegressor(input_scaling="standard", **kw), X, y, sample_weight=sw
    )
    scaler = StandardScaler().fit(X, sample_weight=sw)
    theirs = quiet_fit(SkRegressor(**kw), scaler.transform(X), y, sample_weight=sw)
    assert_allclose(ours.input_offset_, scaler.mean_, rtol=1e-12)
    assert_allclose(ours.input_scale_, scaler.scale_, rtol=1e-12)
    for a, b in zip(ours.coefs_, theirs.coefs_):  # weights act on scaled inputs
        assert_allclose(a, b, rtol=1e-6, atol=1e-9)
    assert_allclose(
        ours.predict(X_test), theirs.predict(scaler.transform(X_test)), rtol=1e-6
    )


def test_minmax_classifier_matches_sklearn_on_numpy_scaled_data(rng):
    X, y = make_data(rng)
    labels = np.digitize(y, np.quantile(y, [0.33, 0.66]))
    lo, hi = X.min(0), X.max(0)
    ref = (X - lo) / np.where(hi > lo, hi - lo, 1.0)
    ours = quiet_fit(MLPClassifier(input_scaling="minmax", **KW), X, labels)
    theirs = quiet_fit(SkClassifier(**KW), ref, labels)
    assert_allclose(ours.predict_proba(X), theirs.predict_proba(ref), rtol=1e-6)
    assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-8)


def test_early_stopping_validation_scores_in_scaled_space(rng):
    """The validation score is computed on scaled X and y inside fit; R^2 per
    output is invariant under the same affine map on y and predictions, so it
    equals scikit-learn's on pre-scaled data."""
    X, y = make_data(rng, n=120)
    kw = dict(KW, early_stopping=True, max_iter=8)
    ours = quiet_fit(
        MLPRegressor(input_scaling="standard", target_scaling="standard", **kw), X, y
    )
    Xs = StandardScaler().fit_transform(X)
    ys = (y - y.mean()) / y.std()
    theirs = quiet_fit(SkRegressor(**kw), Xs, ys)
    assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=1e-6)


@pytest.mark.parametrize("method", ["standard", "minmax"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_target_scaling_matches_sklearn_on_numpy_scaled_targets(rng, method, n_outputs):
    X, y = make_data(rng)
    Y = np.stack([y * (10.0**k) + 1e3 * k for k in range(n_outputs)], axis=1)
    if n_outputs == 1:
        Y = Y.ravel()
    Y2 = Y.reshape(len(Y), -1)
    if method == "standard":
        off, scale = Y2.mean(0), Y2.std(0)
    else:
        off, scale = Y2.min(0), Y2.max(0) - Y2.min(0)
    ours = quiet_fit(
        MLPRegressor(input_scaling="standard", target_scaling=method, **KW), X, Y
    )
    scaler = StandardScaler().fit(X)
    theirs = quiet_fit(
        SkRegressor(**KW), scaler.transform(X), ((Y2 - off) / scale).reshape(Y.shape)
    )
    assert_allclose(ours.target_offset_, off, rtol=1e-12)
    assert_allclose(ours.target_scale_, scale, rtol=1e-12)
    # loss_curve_ is in scaled units: the same as scikit-learn's on scaled y.
    assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-6)
    expected = theirs.predict(scaler.transform(X)).reshape(len(X), -1) * scale + off
    got = ours.predict(X)
    assert got.shape == Y.shape
    assert_allclose(got.reshape(len(X), -1), expected, rtol=1e-6)
    assert_allclose(ours.score(X, Y), r2_score(Y2, expected), rtol=1e-6)


def test_target_scaling_with_poisson(rng):
    X, _ = make_data(rng)
    y = rng.poisson(3.0, len(X)).astype(float) + 2
    with pytest.raises(ValueError, match="cannot be used with loss='poisson'"):
        MLPRegressor(loss="poisson", target_scaling="standard", **KW).fit(X, y)
    est = quiet_fit(
        MLPRegressor(
            loss="poisson", target_scaling="minmax", input_scaling="standard", **KW
        ),
        X,
        y,
    )
    # Reference: scikit-learn's Poisson MLP on the min-max scaled targets.
    lo, hi = y.min(), y.max()
    theirs = quiet_fit(
        SkRegressor(loss="poisson", **KW),
        StandardScaler().fit_transform(X),
        (y - lo) / (hi - lo),
    )
    expected = theirs.predict(StandardScaler().fit_transform(X)) * (hi - lo) + lo
    assert_allclose(est.predict(X), expected, rtol=1e-6)
    assert (est.predict(X) >= lo).all()


def test_statistics_kept_under_partial_fit_and_warm_start(rng):
    X, y = make_data(rng, n=120)
    est = MLPRegressor(input_scaling="standard", target_scaling="minmax", **KW)
    est.partial_fit(X[:60], y[:60])
    first = (
        est.input_offset_.copy(),
        est.input_scale_.copy(),
        est.target_scale_.copy(),
    )
    est.partial_fit(X[60:] * 3, y[60:] * 3)
    assert_array_equal(est.input_offset_, first[0])
    assert_array_equal(est.input_scale_, first[1])
    assert_array_equal(est.target_scale_, first[2])
    # partial_fit's step uses the first call's statistics, as a reference fit
    # of scikit-learn on data scaled with them shows.
    off, scale = first[0], first[1]
    sk = SkRegressor(**KW)
    ty = lambda v: (v - est.target_offset_) / est.target_scale_  # noqa: E731
    sk.partial_fit((X[:60] - off) / scale, ty(y[:60]))
    sk.partial_fit((X[60:] * 3 - off) / scale, ty(y[60:] * 3))
    assert_allclose(est.coefs_[0], sk.coefs_[0], rtol=1e-6, atol=1e-9)

    warm = quiet_fit(MLPRegressor(input_scaling="minmax", warm_start=True, **KW), X, y)
    scale = warm.input_scale_.copy()
    quiet_fit(warm, X * 2, y)
    assert_array_equal(warm.input_scale_, scale)
    warm.set_params(warm_start=False)
    quiet_fit(warm, X * 2, y)  # a cold fit recomputes
    assert_allclose(warm.input_scale_[:4], 2 * scale[:4])  # [4] is constant: 1

    warm.set_params(warm_start=True, input_scaling=None)
    with pytest.raises(ValueError, match="input_scaling changed"):
        quiet_fit(warm, X, y)


def sparse_nonneg(rng, n=90):
    X = sp.random(n, 6, density=0.4, format="csr", random_state=2) * 40.0
    y = np.asarray(X[:, :3].sum(axis=1)).ravel() + rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_minmax_scales_without_densifying(rng, fmt):
    X, y = sparse_nonneg(rng)
    X = X.asformat(fmt)
    colmax = X.toarray().max(0)
    est = quiet_fit(MLPRegressor(input_scaling="minmax", **KW), X, y)
    assert_array_equal(est.input_offset_, 0)
    assert_allclose(est.input_scale_, np.where(colmax > 0, colmax, 1.0))
    # Every column has a zero, so this is dense minmax: the dense fit agrees.
    dense = quiet_fit(MLPRegressor(input_scaling="minmax", **KW), X.toarray(), y)
    assert_allclose(dense.input_offset_, 0, atol=0)
    assert_allclose(est.predict(X), dense.predict(X.toarray()), rtol=1e-10)
    assert_allclose(est.predict(X.toarray()), est.predict(X), rtol=1e-10)


def test_sparse_errors_say_why_and_what_to_do(rng):
    X, y = sparse_nonneg(rng)
    with pytest.raises(ValueError, match="densify.*Use input_scaling='minmax'"):
        MLPRegressor(input_scaling="standard", **KW).fit(X, y)
    Xneg = X.copy()
    Xneg.data[0] = -1.0
    with pytest.raises(ValueError, match="negative values.*dense array"):
        MLPRegressor(input_scaling="minmax", **KW).fit(Xneg, y)
    # A dense fit with a nonzero offset cannot be applied to sparse X.
    dense = quiet_fit(MLPRegressor(input_scaling="standard", **KW), X.toarray(), y)
    with pytest.raises(ValueError, match="would densify"):
        dense.predict(X)


def test_parameters_validate_and_clone():
    est = MLPRegressor(input_scaling="minmax", target_scaling="standard")
    assert clone(est).get_params()["target_scaling"] == "standard"
    assert clone(est).get_params()["input_scaling"] == "minmax"
    assert MLPClassifier().get_params()["input_scaling"] is None
    assert "target_scaling" not in MLPClassifier().get_params()
    X, y = np.ones((4, 2)), np.arange(4.0)
    for bad in (dict(input_scaling="max"), dict(target_scaling="l2")):
        with pytest.raises(InvalidParameterError):
            MLPRegressor(**bad).fit(X, y)


@pytest.mark.parametrize("method", ["standard", "minmax"])
def test_statistics_over_several_row_blocks(rng, method):
    """More rows than one statistics block (STATS_BLOCK_ROWS), weighted."""
    n = 2 * STATS_BLOCK_ROWS + 123
    X = rng.standard_normal((n, 3)) * [1.0, 1e3, 1e-3] + [5.0, -2e4, 0.0]
    sw = rng.uniform(0, 3, n)
    sw[::7] = 0
    offset, scale = fit_scaling(X, method, sw)
    expected = numpy_stats(X, method, sw)
    assert_allclose(offset, expected[0], rtol=1e-12)
    assert_allclose(scale, expected[1], rtol=1e-10)
