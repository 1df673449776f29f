"""Bad input battery (issue 7.1): every case runs on scikit-learn 1.9.1's own MLP
and on fastmlp, and must fail (or warn, or succeed) the same way: the same
exception type and message. A failed call must leave the estimator exactly as it
was, bit for bit: unfitted if it was unfitted, its previous model if fitted.

``jacobian`` has no scikit-learn counterpart; its cases are checked against
scikit-learn's ``predict`` on the same X (the same input validation applies).
"""

import copy
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor

from fastmlp import MLPClassifier, MLPRegressor

N, F = 40, 4
DIVERGED = "Solver produced non-finite parameter weights."


def data(kind, dtype=np.float64):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, F)).astype(dtype)
    y = (
        (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
        if kind == "clf"
        else X @ [1, 2, 0, -1]
    )
    return X, y


def make(kind, lib, **kw):
    params = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    params.update(kw)
    if lib == "ours":
        return (MLPClassifier if kind == "clf" else MLPRegressor)(**params)
    return (SkClassifier if kind == "clf" else SkRegressor)(**params)


def outcome(call):
    """(exception type or None, message, [(warning category, message)])."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            call()
        except Exception as exc:  # noqa: BLE001 - the battery compares any error
            err = (type(exc), str(exc))
        else:
            err = (None, "")
    return err, sorted({(w.category.__name__, str(w.message)) for w in caught})


# ----------------------------------------------------------- equality of state
def same(a, b):
    """Bit-exact equality of fitted state (arrays by bytes, containers deep)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype == object or b.dtype == object:
            return a.shape == b.shape and all(
                same(x, y) for x, y in zip(a.ravel(), b.ravel())
            )
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, np.random.RandomState):
        return same(list(a.get_state()), list(b.get_state()))
    if isinstance(a, float) and np.isnan(a):
        return np.isnan(b)
    if hasattr(a, "__dict__") and not isinstance(a, type):
        return same(vars(a), vars(b))
    return a == b


def assert_state_unchanged(est, before):
    after = vars(est)
    assert after.keys() == before.keys()
    for key in before:
        assert same(after[key], before[key]), key


# ------------------------------------------------------------------ the cases
def with_value(X, value, where=(3, 1)):
    X = X.astype(float)
    X[where] = value
    return X


# name -> function(X, y) giving the bad (X, y) for fit and partial_fit
FIT_CASES = {
    "nan_X": lambda X, y: (with_value(X, np.nan), y),
    "inf_X": lambda X, y: (with_value(X, np.inf), y),
    "neg_inf_X": lambda X, y: (with_value(X, -np.inf), y),
    "nan_y": lambda X, y: (X, with_value(y[:, None], np.nan, (2, 0)).ravel()),
    "inf_y": lambda X, y: (X, with_value(y[:, None], np.inf, (2, 0)).ravel()),
    "X_1d": lambda X, y: (X[:, 0], y),
    "X_3d": lambda X, y: (X.reshape(N, 2, 2), y),
    "no_rows": lambda X, y: (X[:0], y[:0]),
    "no_features": lambda X, y: (X[:, :0], y),
    "y_too_short": lambda X, y: (X, y[:-1]),
    "y_too_long": lambda X, y: (X, np.concatenate([y, y[:1]])),
    "X_object_numbers": lambda X, y: (X.astype(object), y),
    "X_object_strings": lambda X, y: (X.astype(str).astype(object), y),
    "X_complex": lambda X, y: (X + 1j, y),
    "X_bool": lambda X, y: (X > 0, y),
    "X_strings": lambda X, y: (np.array([["a"] * F] * N), y),
}

# name -> function(X) giving the bad X for predict, predict_proba and jacobian
PREDICT_CASES = {
    "nan_X": lambda X: with_value(X, np.nan),
    "inf_X": lambda X: with_value(X, np.inf),
    "X_1d": lambda X: X[:, 0],
    "X_3d": lambda X: X.reshape(N, 2, 2),
    "no_rows": lambda X: X[:0],
    "no_features": lambda X: X[:, :0],
    "too_few_features": lambda X: X[:, :-1],
    "too_many_features": lambda X: np.hstack([X, X[:, :1]]),
    "X_object_numbers": lambda X: X.astype(object),
    "X_object_strings": lambda X: X.astype(str).astype(object),
    "X_complex": lambda X: X + 1j,
    "X_bool": lambda X: X > 0,
    "X_strings": lambda X: np.array([["a"] * F] * N),
}

# Hyperparameter cases: (parameters, fit data modifier or None)
PARAM_CASES = {
    "hidden_zero": dict(hidden_layer_sizes=(0,)),
    "hidden_negative": dict(hidden_layer_sizes=(-3,)),
    "hidden_zero_second": dict(hidden_layer_sizes=(4, 0)),
    "hidden_scalar_negative": dict(hidden_layer_sizes=-1),
    "batch_size_zero": dict(batch_size=0),
    "batch_size_negative": dict(batch_size=-5),
    "batch_size_over_n": dict(batch_size=N + 10),
}


def fitted_pair(kind, solver="adam"):
    X, y = data(kind)
    ours = make(kind, "ours", solver=solver)
    theirs = make(kind, "sk", solver=solver)
    outcome(lambda: ours.fit(X, y))
    outcome(lambda: theirs.fit(X, y))
    return ours, theirs


def assert_same_outcome(ours_call, their_call):
    ours, theirs = outcome(ours_call), outcome(their_call)
    assert ours[0][0] is theirs[0][0], (ours, theirs)
    assert ours[0][1] == theirs[0][1]
    assert ours[1] == theirs[1]
    return ours


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("fitted", [False, True], ids=["fresh", "fitted"])
@pytest.mark.parametrize("case", sorted(FIT_CASES))
def test_bad_fit_input(kind, method, fitted, case):
    X, y = data(kind)
    Xb, yb = FIT_CASES[case](X, y)
    if fitted:
        ours, theirs = fitted_pair(kind)
    else:
        ours, theirs = make(kind, "ours"), make(kind, "sk")
    extra = (
        dict(classes=np.unique(y)) if method == "partial_fit" and kind == "clf" else {}
    )
    before = copy.deepcopy(vars(ours))
    (err, _), _ = assert_same_outcome(
        lambda: getattr(ours, method)(Xb, yb, **extra),
        lambda: getattr(theirs, method)(Xb, yb, **extra),
    )
    if err is not None:
        assert_state_unchanged(ours, before)
    else:  # accepted by both (e.g. bool X): the model must then work
        assert ours.predict(Xb).shape == theirs.predict(Xb).shape


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("method", ["predict", "predict_proba", "jacobian"])
@pytest.mark.parametrize("case", sorted(PREDICT_CASES))
def test_bad_predict_input(kind, method, case):
    if method == "predict_proba" and kind == "reg":
        pytest.skip("regressors have no predict_proba")
    X, _ = data(kind)
    Xb = PREDICT_CASES[case](X)
    ours, theirs = fitted_pair(kind)
    before = copy.deepcopy(vars(ours))
    their_method = "predict" if method == "jacobian" else method
    (err, _), _ = assert_same_outcome(
        lambda: getattr(ours, method)(Xb), lambda: getattr(theirs, their_method)(Xb)
    )
    assert_state_unchanged(ours, before)
    if err is None:
        out = getattr(ours, method)(Xb)
        assert np.isfinite(out).all()


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("method", ["predict", "predict_proba", "jacobian"])
def test_unfitted_predict(kind, method):
    if method == "predict_proba" and kind == "reg":
        pytest.skip("regressors have no predict_proba")
    X, _ = data(kind)
    their_method = "predict" if method == "jacobian" else method
    assert_same_outcome(
        lambda: getattr(make(kind, "ours"), method)(X),
        lambda: getattr(make(kind, "sk"), their_method)(X),
    )


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("fitted", [False, True], ids=["fresh", "fitted"])
@pytest.mark.parametrize("case", sorted(PARAM_CASES))
def test_bad_parameters(kind, method, fitted, case):
    X, y = data(kind)
    if fitted:
        ours, theirs = fitted_pair(kind)
    else:
        ours, theirs = make(kind, "ours"), make(kind, "sk")
    ours.set_params(**PARAM_CASES[case])
    theirs.set_params(**PARAM_CASES[case])
    extra = (
        dict(classes=np.unique(y)) if method == "partial_fit" and kind == "clf" else {}
    )
    before = copy.deepcopy(vars(ours))
    ours_out = outcome(lambda: getattr(ours, method)(X, y, **extra))
    their_out = outcome(lambda: getattr(theirs, method)(X, y, **extra))
    (err, msg), _ = ours_out
    assert err is their_out[0][0], (ours_out, their_out)
    if case.startswith("batch_size") and err is not None:
        # fastmlp also accepts batch_size='full', so its constraint lists it
        # (a set: printed in either order).
        theirs_msg = their_out[0][1]
        assert msg in [
            theirs_msg.replace("{'auto'}", "{'auto', 'full'}"),
            theirs_msg.replace("{'auto'}", "{'full', 'auto'}"),
        ]
    else:
        assert msg == their_out[0][1]
    assert ours_out[1] == their_out[1]
    if err is not None:
        assert_state_unchanged(ours, before)


@pytest.mark.parametrize("fitted", [False, True], ids=["fresh", "fitted"])
def test_partial_fit_unknown_label(fitted):
    X, y = data("clf")
    classes = np.unique(y)
    ours, theirs = make("clf", "ours"), make("clf", "sk")
    if fitted:
        outcome(lambda: ours.partial_fit(X, y, classes=classes))
        outcome(lambda: theirs.partial_fit(X, y, classes=classes))
    before = copy.deepcopy(vars(ours))
    y_bad = y.copy()
    y_bad[0] = 7
    (err, _), _ = assert_same_outcome(
        lambda: ours.partial_fit(X, y_bad, classes=classes),
        lambda: theirs.partial_fit(X, y_bad, classes=classes),
    )
    assert err is ValueError
    assert_state_unchanged(ours, before)
    # and classes that change between partial_fit calls
    if fitted:
        assert_same_outcome(
            lambda: ours.partial_fit(X, y, classes=np.arange(5)),
            lambda: theirs.partial_fit(X, y, classes=np.arange(5)),
        )
        assert_state_unchanged(ours, before)


@pytest.mark.parametrize("case", ["nan_X", "X_3d", "y_too_short", "X_strings"])
def test_bad_input_is_rejected_before_any_training_work(monkeypatch, case):
    """Validation comes first: a bad call never reaches weight initialisation or
    the compiled solver, so it fails fast."""
    import fastmlp._estimators as estimators

    def forbidden(*args, **kwargs):
        raise AssertionError("training work started on bad input")

    monkeypatch.setattr(estimators, "glorot_uniform", forbidden)
    monkeypatch.setattr(estimators._solver, "fit_stochastic", forbidden)
    X, y = data("reg")
    with pytest.raises(ValueError):
        MLPRegressor(hidden_layer_sizes=(3,)).fit(*FIT_CASES[case](X, y))


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("where", ["X", "y", "both"])
@pytest.mark.parametrize("fitted", [False, True], ids=["fresh", "warm"])
def test_huge_values(kind, solver, where, fitted):
    """Values of 1e30 (scaled features or targets). Where scikit-learn's weights
    go non-finite both raise its ValueError. One documented difference: where
    scikit-learn's *loss* overflows to inf but its weights stay (barely) finite
    (sgd on targets of 1e30: |w| ~ 1e232, loss_ = inf), scikit-learn returns that
    useless model; fastmlp stops inside the epoch at the first non-finite batch
    loss and raises the same ValueError (issue 7.2)."""
    X, y = data(kind)
    Xh = X * 1e30 if where in ("X", "both") else X
    yh = y * 1e30 if where in ("y", "both") and kind == "reg" else y
    if fitted:
        ours, theirs = fitted_pair(kind, solver=solver)
        ours.set_params(warm_start=True)
        theirs.set_params(warm_start=True)
    else:
        ours, theirs = (
            make(kind, "ours", solver=solver),
            make(kind, "sk", solver=solver),
        )
    before = copy.deepcopy(vars(ours))
    (err, msg), _ = outcome(lambda: ours.fit(Xh, yh))
    (their_err, their_msg), _ = outcome(lambda: theirs.fit(Xh, yh))
    if their_err is None and not np.isfinite(theirs.loss_):
        assert err is ValueError and msg.startswith(DIVERGED)
    else:
        assert (err, msg) == (their_err, their_msg)
    if err is not None:
        assert_state_unchanged(ours, before)
    else:
        assert all(np.isfinite(c).all() for c in ours.coefs_ + ours.intercepts_)
