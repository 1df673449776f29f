"""fastmlp's model features beyond scikit-learn (issue 14) at the estimator
level: per-layer and new activations, dropout, class_weight and the new
regression losses, with the rest of the estimator (sparse input, float32,
warm_start, partial_fit, early_stopping, jacobian, pickling, to_sklearn).

The training arithmetic itself is checked against NumPy twins
(tests/kernels), finite differences (test_gradients.py) and PyTorch
(test_torch_reference.py); here each feature is checked against its
definition through the public API: class_weight against sample_weight, dropout
against no dropout and against itself under other thread counts, the
Jacobian against central differences, to_sklearn against scikit-learn."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.class_weight import compute_sample_weight

from fastmlp import MLPClassifier, MLPRegressor
from fastmlp._kernels.losses import LOSS_CODES
from tests import reference


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def weights(est):
    return [*est.coefs_, *est.intercepts_]


def assert_same_bits(a, b):
    for x, y in zip(weights(a), weights(b)):
        assert_array_equal(x, y)


def regression_data(rng, n=120, d=6, k=1):
    X = rng.standard_normal((n, d))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(n)
    return X, (y if k == 1 else np.stack([y, -y + X[:, 3]], axis=1))


def classification_data(rng, n=150):
    X = rng.standard_normal((n, 5))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] > 1.0, 2, (X[:, 2] > 0.8).astype(int))
    return X, y


# ----------------------------------------------------------------- defaults
def test_defaults_are_none_and_scikit_learns():
    assert MLPClassifier().dropout is None and MLPClassifier().class_weight is None
    reg = MLPRegressor()
    assert (reg.dropout, reg.huber_delta, reg.quantile) == (None, None, None)
    assert reg.loss == "squared_error" and reg.activation == "relu"


def test_dropout_zero_trains_exactly_what_none_trains(rng):
    X, y = regression_data(rng)
    kw = dict(hidden_layer_sizes=(16, 8), max_iter=5, random_state=1)
    base = MLPRegressor(**kw).fit(X, y)
    assert_same_bits(base, MLPRegressor(**kw, dropout=0.0).fit(X, y))
    assert_same_bits(base, MLPRegressor(**kw, dropout=[0.0, 0.0]).fit(X, y))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_weight_decay_zero_trains_exactly_what_none_trains(rng, solver):
    X, y = regression_data(rng)
    kw = dict(hidden_layer_sizes=(16, 8), max_iter=5, random_state=1, solver=solver)
    base = MLPRegressor(**kw).fit(X, y)
    assert_same_bits(base, MLPRegressor(**kw, weight_decay=0.0).fit(X, y))
    decayed = MLPRegressor(**kw, weight_decay=0.5).fit(X, y)
    # the coefficients shrink, the intercepts are not decayed
    assert sum(float((c**2).sum()) for c in decayed.coefs_) < sum(
        float((c**2).sum()) for c in base.coefs_
    )


def test_one_activation_per_layer_equals_one_for_all(rng):
    X, y = regression_data(rng)
    kw = dict(hidden_layer_sizes=(16, 8), max_iter=5, random_state=1)
    for name in ("tanh", "gelu"):
        a = MLPRegressor(**kw, activation=name).fit(X, y)
        assert_same_bits(a, MLPRegressor(**kw, activation=(name, name)).fit(X, y))
        assert_same_bits(a, MLPRegressor(**kw, activation=[name, name]).fit(X, y))


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(activation="swish"), "activation"),
        (dict(activation=("relu",)), "one activation per hidden layer"),
        (dict(activation=("relu", "bogus")), "'bogus' is not one of"),
        (dict(dropout=1.0), "dropout"),
        (dict(dropout=-0.1), "dropout"),
        (dict(dropout=(0.1,)), "one rate per hidden layer"),
        (dict(dropout=(0.1, 1.5)), r"\[0, 1\)"),
        (dict(dropout=0.2, solver="lbfgs"), "stochastic solver"),
        (dict(loss="huber", huber_delta=0.0), "huber_delta"),
        (dict(loss="quantile", quantile=1.0), "quantile"),
        (dict(loss="pinball"), "loss"),
        (dict(weight_decay=-1.0), "weight_decay"),
        (dict(weight_decay=0.1, solver="lbfgs"), "weight_decay"),
    ],
)
def test_bad_parameters_raise_and_change_nothing(rng, params, match):
    X, y = regression_data(rng)
    est = MLPRegressor(hidden_layer_sizes=(5, 4), max_iter=2, random_state=0)
    est.fit(X, y)
    before = [w.copy() for w in weights(est)]
    est.set_params(**params)
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)
    for a, b in zip(before, weights(est)):
        assert_array_equal(a, b)


def test_bad_class_weight_raises(rng):
    X, y = classification_data(rng)
    with pytest.raises(ValueError, match="class_weight"):
        MLPClassifier(class_weight="auto").fit(X, y)


# ---------------------------------------------------------------- class_weight
@pytest.mark.parametrize("class_weight", ["balanced", {0: 1.0, 1: 3.0, 2: 0.5}])
@pytest.mark.parametrize("with_sample_weight", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_class_weight_is_sample_weight_bit_for_bit(rng, class_weight,
                                                   with_sample_weight, dtype):  # fmt: skip
    X, y = classification_data(rng)
    X = X.astype(dtype)
    sw = rng.uniform(0.5, 2.0, len(y)) if with_sample_weight else None
    kw = dict(hidden_layer_sizes=(12,), max_iter=8, random_state=0)
    ours = MLPClassifier(**kw, class_weight=class_weight).fit(X, y, sample_weight=sw)
    expected = compute_sample_weight(class_weight, y)
    if sw is not None:
        expected = expected * sw
    plain = MLPClassifier(**kw).fit(X, y, sample_weight=expected)
    assert_same_bits(ours, plain)


def test_class_weight_with_early_stopping_and_lbfgs(rng):
    X, y = classification_data(rng)
    for kw in (
        dict(early_stopping=True, max_iter=6),
        dict(solver="lbfgs", max_iter=20),
    ):
        kw = dict(hidden_layer_sizes=(8,), random_state=0, **kw)
        ours = MLPClassifier(**kw, class_weight="balanced").fit(X, y)
        sw = compute_sample_weight("balanced", y)
        assert_same_bits(ours, MLPClassifier(**kw).fit(X, y, sample_weight=sw))


def test_class_weight_partial_fit_follows_sgdclassifier(rng):
    X, y = classification_data(rng)
    classes = np.unique(y)
    cw = {0: 0.5, 1: 2.0, 2: 4.0}
    kw = dict(hidden_layer_sizes=(8,), random_state=0)
    ours = MLPClassifier(**kw, class_weight=cw)
    plain = MLPClassifier(**kw)
    for part in np.array_split(np.arange(len(y)), 3):
        ours.partial_fit(X[part], y[part], classes=classes)
        plain.partial_fit(X[part], y[part], classes=classes,
                          sample_weight=compute_sample_weight(cw, y[part]))  # fmt: skip
    assert_same_bits(ours, plain)
    balanced = MLPClassifier(**kw, class_weight="balanced")
    with pytest.raises(ValueError, match="not supported for partial_fit"):
        balanced.partial_fit(X, y, classes=classes)
    assert not hasattr(balanced, "coefs_")


# -------------------------------------------------------------------- dropout
def test_dropout_is_reproducible_and_changes_training(rng):
    X, y = regression_data(rng)
    kw = dict(hidden_layer_sizes=(32, 16), max_iter=4, dropout=0.3)
    a = MLPRegressor(**kw, random_state=3).fit(X, y)
    assert_same_bits(a, MLPRegressor(**kw, random_state=3).fit(X, y))
    other_seed = MLPRegressor(**kw, random_state=4).fit(X, y)
    assert not np.array_equal(a.coefs_[0], other_seed.coefs_[0])
    none = MLPRegressor(**dict(kw, dropout=None), random_state=3).fit(X, y)
    assert not np.array_equal(a.coefs_[1], none.coefs_[1])


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_dropout_bits_do_not_depend_on_threads(rng, n_jobs):
    X, y = regression_data(rng, n=600, d=20)
    kw = dict(hidden_layer_sizes=(64, 48), max_iter=3, dropout=(0.4, 0.1),
              activation=("gelu", "relu"), batch_size=128, random_state=0)  # fmt: skip
    serial = MLPRegressor(**kw, n_jobs=1).fit(X, y)
    assert_same_bits(serial, MLPRegressor(**kw, n_jobs=n_jobs).fit(X, y))


def test_dropout_layer_phases_train_the_same_bits(rng, monkeypatch):
    from fastmlp import _solver

    X, y = regression_data(rng, n=300, d=10)
    kw = dict(hidden_layer_sizes=(40, 33), max_iter=2, dropout=0.25,
              activation=("silu", "elu"), random_state=0)  # fmt: skip
    whole = MLPRegressor(**kw).fit(X, y)
    monkeypatch.setattr(_solver, "ALWAYS_LAYERED", True)
    assert_same_bits(whole, MLPRegressor(**kw).fit(X, y))


def test_dropout_is_off_in_prediction(rng):
    X, y = regression_data(rng)
    est = MLPRegressor(hidden_layer_sizes=(16,), max_iter=3, dropout=0.5,
                       random_state=0).fit(X, y)  # fmt: skip
    H = np.maximum(X @ est.coefs_[0] + est.intercepts_[0], 0)
    assert_allclose(est.predict(X), (H @ est.coefs_[1] + est.intercepts_[1]).ravel(),
                    rtol=1e-12)  # fmt: skip
    assert_array_equal(est.predict(X), est.predict(X))


def test_dropout_partial_fit_continues_the_epochs_masks(rng):
    """The masks are keyed on the samples seen before each epoch (t_): two
    partial_fit calls train what fit trains in two epochs."""
    X, y = regression_data(rng)
    kw = dict(hidden_layer_sizes=(16, 8), dropout=0.3, random_state=0,
              shuffle=False, solver="sgd")  # fmt: skip
    fitted = MLPRegressor(**kw, max_iter=2, tol=0, n_iter_no_change=99).fit(X, y)
    online = MLPRegressor(**kw)
    online.partial_fit(X, y)
    online.partial_fit(X, y)
    assert_same_bits(fitted, online)


def test_dropout_mask_rate_and_independence():
    """The twin of the generator drops the asked fraction, independently per
    unit and row (the kernels' masks equal the twin's: tests/kernels)."""
    m = reference.dropout_multipliers(7, 0, 0, np.arange(4000), 256, 0.3)
    kept = m > 0
    assert abs(kept.mean() - 0.7) < 0.005
    assert_allclose(m[kept], 1 / 0.7, rtol=1e-9)
    corr = np.corrcoef(kept[:, :-1].ravel(), kept[:, 1:].ravel())[0, 1]
    assert abs(corr) < 0.01
    other = reference.dropout_multipliers(7, 4000, 0, np.arange(4000), 256, 0.3)
    assert abs((kept == (other > 0)).mean() - (0.7**2 + 0.3**2)) < 0.005


# -------------------------------------------------------------- everything else
FEATURES = [
    dict(activation="gelu"),
    dict(activation=("silu", "softplus")),
    dict(activation="elu", dropout=0.2),
    dict(activation="leaky_relu", loss="huber", huber_delta=0.3),
    dict(loss="quantile", quantile=0.8),
    dict(loss="absolute_error", dropout=(0.1, 0.3)),
]


@pytest.mark.parametrize("params", FEATURES)
def test_sparse_input_trains_as_dense(rng, params):
    X, y = regression_data(rng)
    X[np.abs(X) < 0.7] = 0.0
    kw = dict(hidden_layer_sizes=(12, 6), max_iter=4, random_state=0, **params)
    dense = MLPRegressor(**kw).fit(X, y)
    sparse = MLPRegressor(**kw).fit(sp.csr_matrix(X), y)
    for a, b in zip(weights(dense), weights(sparse)):
        assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("params", FEATURES)
def test_float32_trains_close_to_float64(rng, params):
    X, y = regression_data(rng)
    kw = dict(hidden_layer_sizes=(12, 6), max_iter=3, random_state=0, **params)
    f64 = MLPRegressor(**kw).fit(X, y)
    f32 = MLPRegressor(**kw).fit(X.astype(np.float32), y.astype(np.float32))
    assert f32.coefs_[0].dtype == np.float32
    for a, b in zip(weights(f32), weights(f64)):
        assert_allclose(a, b, rtol=2e-3, atol=2e-4)


@pytest.mark.parametrize("params", FEATURES)
def test_warm_start_early_stopping_and_pickle(rng, params):
    X, y = regression_data(rng, k=2)
    kw = dict(hidden_layer_sizes=(12, 6), random_state=0, **params)
    # warm_start: two fits of 2 epochs are one fit of 4 for plain SGD (no
    # optimizer state, which scikit-learn resets per fit) without shuffling:
    # the masks follow t_
    plain = dict(solver="sgd", momentum=0.0, learning_rate_init=0.01,
                 shuffle=False, tol=0, n_iter_no_change=99)  # fmt: skip
    cold = MLPRegressor(**kw, **plain, max_iter=4).fit(X, y)
    warm = MLPRegressor(**kw, **plain, max_iter=2, warm_start=True)
    warm.fit(X, y).fit(X, y)
    for a, b in zip(weights(cold), weights(warm)):
        assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    es = MLPRegressor(**kw, max_iter=30, early_stopping=True).fit(X, y)
    assert len(es.validation_scores_) == es.n_iter_
    assert es.best_validation_score_ == max(es.validation_scores_)
    clone_ = pickle.loads(pickle.dumps(es))
    assert_array_equal(clone_.predict(X), es.predict(X))


JACOBIAN_CASES = ["gelu", "silu", "softplus", "elu", "leaky_relu", ("gelu", "tanh")]


@pytest.mark.parametrize("activation", JACOBIAN_CASES)
def test_jacobian_matches_central_differences(rng, activation):
    X, y = regression_data(rng, k=2)
    est = MLPRegressor(hidden_layer_sizes=(9, 7), activation=activation, max_iter=5,
                       dropout=0.3, random_state=0).fit(X, y)  # fmt: skip
    J = est.jacobian(X[:5])
    eps = 1e-6
    for i in range(5):
        for j in range(X.shape[1]):
            xp, xm = X[i : i + 1].copy(), X[i : i + 1].copy()
            xp[0, j] += eps
            xm[0, j] -= eps
            numeric = (est.predict(xp) - est.predict(xm))[0] / (2 * eps)
            assert_allclose(J[i, :, j], numeric, rtol=1e-5, atol=1e-8)


# --------------------------------------------------------------------- interop
def test_to_sklearn_where_scikit_learn_reproduces_the_predictions(rng):
    X, y = classification_data(rng)
    clf = MLPClassifier(hidden_layer_sizes=(10, 6), activation=("tanh", "tanh"),
                        dropout=0.2, class_weight="balanced", max_iter=5,
                        random_state=0).fit(X, y)  # fmt: skip
    sk = clf.to_sklearn()
    assert sk.activation == "tanh"
    assert_allclose(sk.predict_proba(X), clf.predict_proba(X), rtol=1e-10)
    Xr, yr = regression_data(rng)
    for params in (dict(loss="huber"), dict(loss="quantile", quantile=0.9),
                   dict(loss="absolute_error", dropout=0.3)):  # fmt: skip
        reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=4, random_state=0,
                           **params).fit(Xr, yr)  # fmt: skip
        sk = reg.to_sklearn()
        assert sk.loss == "squared_error"
        assert_allclose(sk.predict(Xr), reg.predict(Xr), rtol=1e-10)


@pytest.mark.parametrize("activation", ["gelu", ("relu", "tanh")])
def test_to_sklearn_refuses_what_scikit_learn_cannot_compute(rng, activation):
    X, y = regression_data(rng)
    reg = MLPRegressor(hidden_layer_sizes=(6, 5), activation=activation,
                       max_iter=2, random_state=0).fit(X, y)  # fmt: skip
    with pytest.raises(ValueError, match="to_sklearn cannot convert"):
        reg.to_sklearn()


def test_clone_and_get_params_keep_the_new_parameters():
    est = MLPClassifier(activation=("gelu", "relu"), hidden_layer_sizes=(4, 3),
                        dropout=(0.1, 0.2), class_weight={0: 2.0})  # fmt: skip
    params = clone(est).get_params()
    assert params["activation"] == ("gelu", "relu")
    assert params["dropout"] == (0.1, 0.2) and params["class_weight"] == {0: 2.0}


@pytest.mark.parametrize(
    "loss, param", [("absolute_error", None), ("huber", 0.5), ("quantile", 0.3)]
)
@pytest.mark.parametrize("weighted", [False, True])
def test_new_losses_with_lbfgs_report_their_objective(rng, loss, param, weighted):
    """lbfgs's loss_ is the objective at the final weights: the (weighted) mean
    elementwise loss over samples and outputs plus alpha / 2 ||W||^2 / sum(sw),
    recomputed here in NumPy from the predictions."""
    X, Y = regression_data(rng, k=2)
    sw = rng.uniform(0.5, 2.0, len(X)) if weighted else None
    extra = {"huber": {"huber_delta": param}, "quantile": {"quantile": param}}
    est = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=40,
                       loss=loss, alpha=1e-3, random_state=0,
                       **extra.get(loss, {})).fit(X, Y, sample_weight=sw)  # fmt: skip
    code = LOSS_CODES[loss]
    value, _ = reference.elementwise_loss(est.predict(X) - Y, code, param or 0.0)
    w = np.ones(len(X)) if sw is None else sw
    l2 = 0.5e-3 * sum(float((c**2).sum()) for c in est.coefs_)
    expected = (np.dot(w, value.mean(axis=1)) + l2) / w.sum()
    assert_allclose(est.loss_, expected, rtol=1e-9)
