"""to_sklearn / from_sklearn: scikit-learn's own predict on our weights, and ours on
scikit-learn's."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor

import fastmlp
from fastmlp import MLPClassifier, MLPRegressor


def fitted(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.fixture(scope="module")
def clf_data():
    X, y = make_classification(
        n_samples=200, n_features=7, n_informative=5, n_classes=3, random_state=0
    )
    return X * [1, 10, 100, 0.1, 1, 5, 50] + 3.0, y  # uneven scales


@pytest.mark.parametrize("input_scaling", [None, "standard", "minmax"])
@pytest.mark.parametrize("kind", ["multiclass", "binary", "multilabel", "strings"])
def test_classifier_to_sklearn_predicts_the_same(clf_data, kind, input_scaling):
    X, y = clf_data
    if kind == "binary":
        y = y % 2
    elif kind == "multilabel":
        y = np.column_stack([y == 0, y == 1, y == 2]).astype(int)
    elif kind == "strings":
        y = np.array(["a", "b", "c"])[y]
    est = fitted(
        MLPClassifier((9, 5), max_iter=30, random_state=0, input_scaling=input_scaling),
        X,
        y,
    )
    sk = est.to_sklearn()
    assert type(sk) is SkClassifier
    assert_allclose(sk.predict_proba(X), est.predict_proba(X), rtol=1e-6, atol=1e-9)
    assert_array_equal(sk.predict(X), est.predict(X))
    assert sk.score(X, y) == est.score(X, y)
    assert sk.n_iter_ == est.n_iter_ and sk.loss_curve_ == est.loss_curve_
    assert sk.get_params()["hidden_layer_sizes"] == (9, 5)
    assert_array_equal(sk.classes_, est.classes_)


@pytest.mark.parametrize(
    "input_scaling, target_scaling",
    [(None, None), ("standard", "standard"), ("minmax", "minmax")],
)
def test_regressor_to_sklearn_folds_the_scaling(input_scaling, target_scaling):
    X, Y = make_regression(
        n_samples=150, n_features=5, n_targets=2, noise=0.1, random_state=0
    )
    X = X * [1, 100, 0.01, 1, 10]
    Y = Y * [1, 1000] + 500
    est = fitted(
        MLPRegressor(
            hidden_layer_sizes=(8,),
            solver="lbfgs",
            max_iter=100,
            random_state=0,
            input_scaling=input_scaling,
            target_scaling=target_scaling,
        ),
        X,
        Y,
    )
    sk = est.to_sklearn()
    assert type(sk) is SkRegressor
    assert_allclose(sk.predict(X), est.predict(X), rtol=1e-6)
    assert sk.score(X, Y) == pytest.approx(est.score(X, Y), rel=1e-9)
    assert not hasattr(sk, "input_scale_")


def test_float32_model_converts_in_float32():
    X, y = make_regression(n_samples=100, n_features=4, random_state=0)
    X = X.astype(np.float32)
    est = fitted(
        MLPRegressor(hidden_layer_sizes=(6,), max_iter=20, random_state=0), X, y / 100
    )
    sk = est.to_sklearn()
    assert sk.coefs_[0].dtype == np.float32
    assert_allclose(sk.predict(X), est.predict(X), rtol=1e-5, atol=1e-6)


def test_poisson_with_target_scaling_cannot_be_folded():
    rng = np.random.default_rng(0)
    X = rng.random((60, 3))
    y = rng.poisson(3.0, 60).astype(float) + 1
    est = fitted(
        MLPRegressor(
            loss="poisson",
            hidden_layer_sizes=(4,),
            max_iter=5,
            random_state=0,
            target_scaling="minmax",
        ),
        X,
        y,
    )
    with pytest.raises(ValueError, match="cannot fold target_scaling.*'exp'"):
        est.to_sklearn()
    # Without target scaling the exp output converts as is.
    est = fitted(
        MLPRegressor(loss="poisson", hidden_layer_sizes=(4,), max_iter=5), X, y
    )
    assert_allclose(est.to_sklearn().predict(X), est.predict(X), rtol=1e-6)


def test_unfitted_to_sklearn_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MLPClassifier().to_sklearn()


@pytest.mark.parametrize("early_stopping", [False, True])
def test_from_sklearn_predicts_the_same_and_keeps_training(clf_data, early_stopping):
    X, y = clf_data
    X = X / X.std(axis=0)
    kw = dict(
        hidden_layer_sizes=(10,),
        max_iter=20,
        random_state=0,
        early_stopping=early_stopping,
    )
    sk = fitted(SkClassifier(**kw), X, y)
    ours = MLPClassifier.from_sklearn(sk)
    assert type(ours) is MLPClassifier
    assert_allclose(ours.predict_proba(X), sk.predict_proba(X), rtol=1e-6, atol=1e-9)
    assert_array_equal(ours.predict(X), sk.predict(X))
    assert ours.best_loss_ == sk.best_loss_
    assert ours.validation_scores_ == sk.validation_scores_
    # The module-level function infers the class.
    assert type(fastmlp.from_sklearn(sk)) is MLPClassifier
    # One more epoch from the same weights: scikit-learn's partial_fit is the
    # reference (the same data order: shuffle=False).
    if not early_stopping:
        ours.set_params(shuffle=False)
        sk.set_params(shuffle=False)
        ours.partial_fit(X, y)
        sk.partial_fit(X, y)
        assert_allclose(ours.coefs_[0], sk.coefs_[0], rtol=1e-9, atol=1e-12)


def test_regressor_round_trip():
    X, y = make_regression(n_samples=80, n_features=3, noise=1, random_state=1)
    sk = fitted(SkRegressor(hidden_layer_sizes=(5,), max_iter=30, random_state=0), X, y)
    ours = MLPRegressor.from_sklearn(sk)
    assert_allclose(ours.predict(X), sk.predict(X), rtol=1e-9)
    back = ours.to_sklearn()
    assert_array_equal(back.predict(X), sk.predict(X))


def test_from_sklearn_rejects_the_wrong_kind():
    X, y = make_regression(n_samples=30, n_features=2, random_state=0)
    sk = fitted(SkRegressor(hidden_layer_sizes=(3,), max_iter=3), X, y)
    with pytest.raises(TypeError, match="Cannot convert a MLPRegressor into"):
        MLPClassifier.from_sklearn(sk)
    with pytest.raises(TypeError, match="expects a sklearn.neural_network"):
        MLPRegressor.from_sklearn(MLPRegressor())


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_to_sklearn_carries_the_optimizer_state(solver):
    """scikit-learn's partial_fit continues our fit exactly where it stopped
    (velocities / Adam moments and step count converted)."""
    X, y = make_regression(n_samples=120, n_features=4, noise=1, random_state=2)
    kw = dict(
        hidden_layer_sizes=(6,),
        solver=solver,
        shuffle=False,
        max_iter=5,
        learning_rate_init=0.01,
        random_state=0,
    )
    ours = fitted(MLPRegressor(**kw), X, y / y.std())
    sk = ours.to_sklearn()
    ours.partial_fit(X, y / y.std())
    sk.partial_fit(X, y / y.std())
    for a, b in zip(ours.coefs_ + ours.intercepts_, sk.coefs_ + sk.intercepts_):
        assert_allclose(a, b, rtol=1e-9, atol=1e-12)
