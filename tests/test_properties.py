"""Property tests (issue 7.6): for random shapes, activations, solvers, dtypes and
tasks, fit then predict never crashes, outputs have the right shape and dtype,
probabilities are finite and sum to 1, and a pickle round trip predicts
identically. Sizes and example counts are bounded to keep CI short."""

import pickle
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from fastmlp import MLPClassifier, MLPRegressor

SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,  # the same examples every run: CI stays reproducible
    database=None,
)


@st.composite
def problems(draw):
    n = draw(st.integers(2, 40))
    f = draw(st.integers(1, 8))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    seed = draw(st.integers(0, 2**16))
    scale = draw(st.sampled_from([1e-3, 1.0, 100.0]))
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, f)) * scale).astype(dtype)
    params = dict(
        hidden_layer_sizes=tuple(
            draw(st.lists(st.integers(1, 20), min_size=1, max_size=3))
        ),
        activation=draw(st.sampled_from(["identity", "logistic", "tanh", "relu"])),
        solver=draw(st.sampled_from(["sgd", "adam", "lbfgs"])),
        batch_size=draw(st.sampled_from(["auto", "full", 1, 7])),
        max_iter=draw(st.integers(1, 5)),
        random_state=seed,
        n_jobs=draw(st.sampled_from([1, 2])),
    )
    if params["batch_size"] not in ("auto", "full") and params["batch_size"] > n:
        params["batch_size"] = n
    return X, params, rng


def quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn()


def round_trip(est):
    return pickle.loads(pickle.dumps(est))


def out_dtype(X, est):
    return np.result_type(X.dtype, est.coefs_[0].dtype)


@SETTINGS
@given(problems(), st.integers(2, 4), st.booleans())
def test_classifier_properties(problem, n_classes, multilabel):
    X, params, rng = problem
    n = X.shape[0]
    if multilabel:
        y = rng.integers(0, 2, (n, n_classes))
    else:
        y = np.arange(n) % n_classes  # every class present
        rng.shuffle(y)
    est = quiet(lambda: MLPClassifier(**params).fit(X, y))
    pred = est.predict(X)
    assert pred.shape == y.shape
    assert set(np.unique(pred)) <= set(np.unique(y)) | {0, 1}
    proba = est.predict_proba(X)
    n_cols = y.shape[1] if multilabel else n_classes
    assert proba.shape == (n, n_cols) and proba.dtype == out_dtype(X, est)
    assert np.isfinite(proba).all() and (proba >= 0).all() and (proba <= 1).all()
    if not multilabel:
        tol = 1e-5 if proba.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(proba.sum(1), 1.0, rtol=0, atol=tol)
    J = est.jacobian(X)
    assert J.shape == (n, n_cols, X.shape[1]) and np.isfinite(J).all()
    loaded = round_trip(est)
    assert loaded.predict(X).tobytes() == pred.tobytes()
    assert loaded.predict_proba(X).tobytes() == proba.tobytes()


@SETTINGS
@given(problems(), st.integers(1, 3), st.sampled_from([None, "standard", "minmax"]))
def test_regressor_properties(problem, n_targets, scaling):
    X, params, rng = problem
    n = X.shape[0]
    y = rng.standard_normal((n, n_targets)) if n_targets > 1 else rng.standard_normal(n)
    est = quiet(
        lambda: MLPRegressor(
            **params, input_scaling=scaling, target_scaling=scaling
        ).fit(X, y)
    )
    pred = est.predict(X)
    assert pred.shape == y.shape and pred.dtype == out_dtype(X, est)
    assert np.isfinite(pred).all()
    J = est.jacobian(X)
    assert J.shape == (n, n_targets, X.shape[1]) and np.isfinite(J).all()
    loaded = round_trip(est)
    assert loaded.predict(X).tobytes() == pred.tobytes()
    # the loaded model trains on (partial_fit) like the original
    if params["solver"] != "lbfgs":
        a = quiet(lambda: est.partial_fit(X, y)).predict(X)
        b = quiet(lambda: loaded.partial_fit(X, y)).predict(X)
        assert a.tobytes() == b.tobytes()
