"""Same data, parameters and random_state as scikit-learn -> the same model.

fastmlp draws initial weights and every shuffle from the same RandomState stream
as scikit-learn, so the weights after a few epochs agree to rounding, with
shuffle=False and with shuffle=True."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.utils import check_random_state

from fastmlp import MLPClassifier, MLPRegressor
from fastmlp._params import glorot_uniform


def fit_pair(ours, theirs, X, y, **fit_kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(X, y, **fit_kw)
        theirs.fit(X, y, **fit_kw)
    return ours, theirs


def assert_same_model(ours, theirs, rtol):
    assert len(ours.coefs_) == len(theirs.coefs_)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert a.dtype == b.dtype
        assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-2)
    assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=rtol)
    for attr in ("n_iter_", "t_", "n_layers_", "n_outputs_", "out_activation_"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert_allclose(ours.best_loss_, theirs.best_loss_, rtol=rtol)


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_initial_weights_match_scikit_learn(activation):
    units = [7, 5, 3, 2]
    ours = glorot_uniform(check_random_state(0), units, activation, np.float64)
    sk = SkClassifier(activation=activation)
    sk._random_state = check_random_state(0)
    for layer, (fi, fo) in enumerate(zip(units[:-1], units[1:])):
        coef, intercept = sk._init_coef(fi, fo, np.float64)
        np.testing.assert_array_equal(ours[0][layer], coef)
        np.testing.assert_array_equal(ours[1][layer], intercept)


SOLVERS = [
    dict(solver="adam"),
    dict(solver="sgd", learning_rate="constant", momentum=0.9, nesterovs_momentum=True),
    dict(
        solver="sgd", learning_rate="constant", momentum=0.9, nesterovs_momentum=False
    ),
    dict(
        solver="sgd", learning_rate="invscaling", momentum=0.0, learning_rate_init=0.05
    ),
    dict(solver="sgd", learning_rate="adaptive", momentum=0.5),
]


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize(
    "params", SOLVERS, ids=lambda p: "-".join(map(str, p.values()))
)
@pytest.mark.parametrize("n_classes", [2, 4])
def test_classifier_weights_match_after_three_epochs(params, shuffle, n_classes):
    X, y = make_classification(
        n_samples=150,
        n_features=8,
        n_informative=5,
        n_classes=n_classes,
        random_state=0,
    )
    kw = dict(
        hidden_layer_sizes=(11, 6),
        activation="tanh",
        batch_size=32,
        max_iter=3,
        shuffle=shuffle,
        random_state=0,
        alpha=1e-3,
        **params,
    )
    ours, theirs = fit_pair(MLPClassifier(**kw), SkClassifier(**kw), X, y)
    assert_same_model(ours, theirs, rtol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-6)


@pytest.mark.parametrize("params", SOLVERS[:2], ids=["adam", "sgd"])
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("activation", ["relu", "logistic", "identity"])
def test_regressor_weights_match_after_three_epochs(params, n_outputs, activation):
    X, y = make_regression(
        n_samples=120, n_features=5, n_targets=n_outputs, random_state=0
    )
    y = y / y.std()
    kw = dict(
        hidden_layer_sizes=(9,),
        activation=activation,
        batch_size=25,
        max_iter=3,
        random_state=0,
        learning_rate_init=0.01,
        **params,
    )
    ours, theirs = fit_pair(MLPRegressor(**kw), SkRegressor(**kw), X, y)
    assert_same_model(ours, theirs, rtol=1e-6)
    assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-6, atol=1e-9)


def test_multilabel_and_sample_weight_match(rng):
    X, _ = make_classification(n_samples=90, n_features=6, random_state=1)
    Y = (rng.random((90, 3)) < 0.4).astype(int)
    sw = rng.uniform(0.2, 3.0, 90)
    kw = dict(hidden_layer_sizes=(7,), max_iter=3, batch_size=20, random_state=0)
    ours, theirs = fit_pair(
        MLPClassifier(**kw), SkClassifier(**kw), X, Y, sample_weight=sw
    )
    assert ours.out_activation_ == "logistic"
    assert_same_model(ours, theirs, rtol=1e-6)


def test_float32_stays_float32_and_matches_float64_model():
    X, y = make_classification(n_samples=200, n_features=10, random_state=0)
    kw = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m32 = MLPClassifier(**kw).fit(X.astype(np.float32), y)
        m64 = SkClassifier(**kw).fit(X, y)
    assert all(c.dtype == np.float32 for c in m32.coefs_ + m32.intercepts_)
    proba = m32.predict_proba(X.astype(np.float32))
    assert proba.dtype == np.float32
    # scikit-learn's own float32-versus-float64 bound (test_mlp_param_dtypes)
    assert_allclose(proba, m64.predict_proba(X), rtol=1e-2)


def test_lbfgs_matches_scikit_learn_single_output():
    X, y = make_classification(n_samples=100, n_features=6, random_state=0)
    kw = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=30, random_state=0)
    ours, theirs = fit_pair(MLPClassifier(**kw), SkClassifier(**kw), X, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert_allclose(ours.loss_, theirs.loss_, rtol=1e-5)
    for a, b in zip(ours.coefs_, theirs.coefs_):
        assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_score_close_to_scikit_learn_with_shuffling_and_many_epochs():
    X, y = make_classification(
        n_samples=400, n_features=12, n_informative=6, n_classes=3, random_state=0
    )
    kw = dict(hidden_layer_sizes=(20,), max_iter=60, random_state=0)
    ours, theirs = fit_pair(MLPClassifier(**kw), SkClassifier(**kw), X, y)
    assert abs(ours.score(X, y) - theirs.score(X, y)) <= 0.02


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_split_batches_match_scikit_learn(rng, solver, monkeypatch):
    """Batches of 128 rows are trained as 4 parallel chunks of 32 (see
    _solver.batch_split); the chunks' gradients, losses and weight sums are added
    in order, so the model still matches scikit-learn's."""
    from fastmlp import _solver

    splits = []

    class RecordingWorkspace(_solver.Workspace):
        def __init__(self, *args, n_split=1, **kwargs):
            splits.append(n_split)
            super().__init__(*args, n_split=n_split, **kwargs)

    monkeypatch.setattr(_solver, "Workspace", RecordingWorkspace)
    X, y = make_classification(
        n_samples=300, n_features=9, n_informative=6, n_classes=3, random_state=0
    )
    sw = rng.uniform(0.5, 2.0, 300)
    kw = dict(
        hidden_layer_sizes=(13,),
        batch_size=128,
        max_iter=3,
        random_state=0,
        solver=solver,
    )
    ours, theirs = fit_pair(
        MLPClassifier(**kw), SkClassifier(**kw), X, y, sample_weight=sw
    )
    assert_same_model(ours, theirs, rtol=1e-6)
    assert splits == [4]  # the fit really trained split batches
