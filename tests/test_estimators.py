"""Estimator behaviour: attributes, labels, dtypes, threads and determinism."""

import pickle
import warnings

import numba
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.utils._param_validation import InvalidParameterError

from fastmlp import MLPClassifier, MLPRegressor, _solver
from fastmlp._kernels.network import C_PARALLEL


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(np.float32), y


def quiet_fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


def test_fitted_attributes_match_scikit_learn_names(digits):
    X, y = digits
    ours = quiet_fit(MLPClassifier((20,), max_iter=3, random_state=0), X, y)
    theirs = quiet_fit(SkClassifier((20,), max_iter=3, random_state=0), X, y)
    for name in (
        "coefs_",
        "intercepts_",
        "loss_",
        "loss_curve_",
        "best_loss_",
        "n_iter_",
        "t_",
        "n_layers_",
        "n_outputs_",
        "out_activation_",
        "classes_",
        "n_features_in_",
        "validation_scores_",
        "best_validation_score_",
    ):
        assert hasattr(ours, name), name
        assert type(getattr(ours, name)) is type(getattr(theirs, name)), name
    assert_array_equal(ours.classes_, theirs.classes_)
    assert ours.t_ == 3 * X.shape[0]


def test_string_labels_and_binary_proba(rng):
    X = rng.standard_normal((60, 4))
    y = np.where(X[:, 0] > 0, "yes", "no")
    clf = quiet_fit(MLPClassifier((8,), max_iter=50, random_state=0), X, y)
    sk = quiet_fit(SkClassifier((8,), max_iter=50, random_state=0), X, y)
    assert_array_equal(clf.predict(X), sk.predict(X))
    proba = clf.predict_proba(X)
    assert proba.shape == (60, 2)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-12)
    assert_allclose(proba, sk.predict_proba(X), rtol=1e-6)


def test_regressor_multi_output_shapes():
    X, y = make_regression(n_samples=80, n_features=4, n_targets=2, random_state=0)
    reg = quiet_fit(
        MLPRegressor(hidden_layer_sizes=(10,), max_iter=20, random_state=0), X, y / 100
    )
    assert reg.predict(X).shape == (80, 2)
    assert reg.n_outputs_ == 2


def test_invalid_parameter_uses_scikit_learn_wording(digits):
    X, y = digits
    with pytest.raises(
        InvalidParameterError,
        match="The 'alpha' parameter of MLPClassifier must be a float in the range",
    ):
        MLPClassifier(alpha=-1).fit(X, y)


def test_predict_checks_feature_count(digits):
    X, y = digits
    clf = quiet_fit(MLPClassifier((5,), max_iter=2, random_state=0), X, y)
    with pytest.raises(
        ValueError, match="X has 3 features, but MLPClassifier is expecting 64 features"
    ):
        clf.predict(X[:, :3])


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_bit_identical_for_one_and_two_threads(digits, solver, monkeypatch):
    """A net wide enough to take the parallel branches (see
    _solver.PARALLEL_MIN_CHUNK_MACS; checked below, or this would compare two
    serial runs)."""
    X, y = digits
    kw = dict(
        hidden_layer_sizes=(128, 64),
        solver=solver,
        max_iter=3,
        random_state=0,
        batch_size=128,
    )
    one = quiet_fit(MLPClassifier(n_jobs=1, **kw), X, y)
    seen = []
    run_epochs = _solver.run_epochs

    def spy(*args):
        seen.append(int(args[8][C_PARALLEL]))  # codes
        return run_epochs(*args)

    monkeypatch.setattr(_solver, "run_epochs", spy)
    two = quiet_fit(MLPClassifier(n_jobs=2, **kw), X, y)
    assert seen and all(seen)
    for a, b in zip(one.coefs_ + one.intercepts_, two.coefs_ + two.intercepts_):
        assert_array_equal(a, b)
    assert one.loss_curve_ == two.loss_curve_


def test_refit_is_bit_identical_and_pickle_round_trip(digits):
    X, y = digits
    est = MLPClassifier((16,), max_iter=2, random_state=0)
    a = quiet_fit(clone(est), X, y)
    b = quiet_fit(clone(est), X, y)
    for u, v in zip(a.coefs_, b.coefs_):
        assert_array_equal(u, v)
    restored = pickle.loads(pickle.dumps(a))
    assert_array_equal(restored.predict_proba(X), a.predict_proba(X))


def test_thread_count_restored_even_after_an_error(digits):
    X, y = digits
    before = numba.get_num_threads()
    with pytest.raises(ValueError):
        MLPClassifier((4,), n_jobs=1, max_iter=1).fit(X, y[:-1])
    quiet_fit(MLPClassifier((4,), n_jobs=1, max_iter=1), X, y)
    assert numba.get_num_threads() == before


def test_main_job_runs(capsys):
    from fastmlp.__main__ import main

    assert main(["--max-iter", "5", "--repeats", "1", "--hidden", "16"]) == 0
    out = capsys.readouterr().out
    assert "fastmlp" in out and "scikit-learn" in out and "speed-up" in out
