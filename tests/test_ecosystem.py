"""fastmlp inside scikit-learn's tools, each compared with scikit-learn's own MLP
run the same way."""

import warnings

import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastmlp import MLPClassifier, MLPRegressor


@pytest.fixture(scope="module")
def clf_data():
    return make_classification(
        n_samples=240, n_features=10, n_informative=6, n_classes=3, random_state=0
    )


def test_pipeline_matches_scikit_learn(clf_data):
    X, y = clf_data
    kw = dict(hidden_layer_sizes=(16,), max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = make_pipeline(StandardScaler(), MLPClassifier(**kw)).fit(X, y)
        theirs = make_pipeline(StandardScaler(), SkClassifier(**kw)).fit(X, y)
    assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-6)
    assert ours.score(X, y) == theirs.score(X, y)


def test_grid_search_two_jobs_matches_scikit_learn(clf_data):
    """GridSearchCV(n_jobs=2): loky worker processes, each running fastmlp's
    compiled (OpenMP) kernels; same scores and best parameters as scikit-learn."""
    X, y = clf_data
    grid = {"hidden_layer_sizes": [(8,), (16, 8)], "alpha": [1e-4, 1e-1]}
    kw = dict(max_iter=20, random_state=0)

    def search(est):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return GridSearchCV(est, grid, cv=3, n_jobs=2).fit(X, y)

    ours = search(MLPClassifier(**kw))
    theirs = search(SkClassifier(**kw))
    assert_allclose(
        ours.cv_results_["mean_test_score"],
        theirs.cv_results_["mean_test_score"],
        atol=1e-12,
    )
    assert ours.best_params_ == theirs.best_params_
    assert isinstance(ours.best_estimator_, MLPClassifier)


def test_cross_val_score_regressor_matches_scikit_learn():
    X, y = make_regression(n_samples=150, n_features=6, noise=0.1, random_state=0)
    y = y / y.std()
    kw = dict(hidden_layer_sizes=(12,), solver="lbfgs", max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = cross_val_score(MLPRegressor(**kw), X, y, cv=3)
        theirs = cross_val_score(SkRegressor(**kw), X, y, cv=3)
    assert_allclose(ours, theirs, rtol=1e-4)


def test_get_set_params_and_clone_round_trip():
    from sklearn.base import clone

    est = MLPRegressor(hidden_layer_sizes=(3, 2), alpha=0.5, n_jobs=1)
    params = est.get_params()
    assert (
        params["n_jobs"] == 1
        and params["alpha"] == 0.5
        and params["loss"] == ("squared_error")
    )
    extra = {
        "n_jobs",
        "input_scaling",
        "target_scaling",
        "dropout",
        "huber_delta",
        "quantile",
        "weight_decay",
        "lr_schedule",
        "warmup",
        "max_grad_norm",
        "scoring",
    }  # fastmlp's additions (fmt: skip)
    assert set(params) == set(SkRegressor().get_params()) | extra
    est.set_params(alpha=0.25)
    assert clone(est).get_params()["alpha"] == 0.25
