"""Issue 15's training control beyond scikit-learn's MLP, against scikit-learn:
a given validation set (``fit(X_val=, y_val=, sample_weight_val=)``), the
``scoring`` of validation and early stopping, the checks of the step options.
(Weight decay, schedules and clipping against torch: test_torch_reference.py.)

References: ``sklearn.metrics`` and its scorers on the restored or retrained
model; a fit that must give the same weights (e.g. early stopping on a given
set is a fit on all rows stopped at the best epoch)."""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.metrics import (
    accuracy_score,
    get_scorer,
    log_loss,
    mean_absolute_error,
    mean_pinball_loss,
    mean_squared_error,
    r2_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastmlp import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

COMMON = dict(hidden_layer_sizes=(12,), learning_rate_init=0.01, random_state=0)


def _weights(est):
    return [w.copy() for w in est.coefs_ + est.intercepts_]


def _assert_same_weights(a, b):
    for x, y in zip(_weights(a), _weights(b), strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.fixture(scope="module")
def clf_data():
    X, y = make_classification(
        400, 8, n_informative=5, n_classes=3, random_state=0, flip_y=0.1
    )
    return X[:300], y[:300], X[300:], y[300:]


@pytest.fixture(scope="module")
def reg_data():
    X, y = make_regression(400, 6, noise=10.0, random_state=0)
    y = y / 50.0
    return X[:300], y[:300], X[300:], y[300:]


def test_given_validation_set_scores_each_epoch_without_changing_training(clf_data):
    """Each epoch's validation score is accuracy_score of the model after that
    many epochs; the training itself is the fit without a validation set."""
    X, y, Xv, yv = clf_data
    params = dict(COMMON, max_iter=5, tol=0.0)
    est = MLPClassifier(**params).fit(X, y, X_val=Xv, y_val=yv)
    plain = MLPClassifier(**params).fit(X, y)
    _assert_same_weights(est, plain)
    assert est.loss_curve_ == plain.loss_curve_
    assert len(est.validation_scores_) == est.n_iter_ == 5
    for epoch in range(1, 6):
        ref = MLPClassifier(**dict(params, max_iter=epoch)).fit(X, y)
        want = accuracy_score(yv, ref.predict(Xv))
        assert est.validation_scores_[epoch - 1] == pytest.approx(want, abs=1e-12)
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.best_loss_ == plain.best_loss_


def test_early_stopping_on_given_set_trains_on_all_rows(clf_data):
    """early_stopping with X_val: no split (all of X is trained on), and the
    restored weights are those of the best epoch: a plain fit stopped there."""
    X, y, Xv, yv = clf_data
    params = dict(COMMON, max_iter=40, n_iter_no_change=4, early_stopping=True)
    est = MLPClassifier(**params).fit(X, y, X_val=Xv, y_val=yv)
    best = int(np.argmax(est.validation_scores_)) + 1
    assert est.n_iter_ < 40  # it stopped early
    ref = MLPClassifier(**dict(params, early_stopping=False, max_iter=best, tol=0.0))
    ref.fit(X, y)
    _assert_same_weights(est, ref)
    assert est.best_validation_score_ == pytest.approx(
        accuracy_score(yv, est.predict(Xv)), abs=1e-12
    )


@pytest.mark.parametrize("early_stopping", [False, True])
def test_scoring_loss_is_the_negated_log_loss(clf_data, early_stopping):
    X, y, Xv, yv = clf_data
    swv = np.random.default_rng(0).uniform(0.5, 2.0, len(yv))
    est = MLPClassifier(
        **COMMON, max_iter=8, scoring="loss", early_stopping=early_stopping
    ).fit(X, y, X_val=Xv, y_val=yv, sample_weight_val=swv)
    ref = clone(est).set_params(max_iter=8, early_stopping=False).fit(X, y)
    want = -log_loss(yv, ref.predict_proba(Xv), sample_weight=swv)
    assert est.validation_scores_[-1] == pytest.approx(want, rel=1e-10)
    # the restored model is the best-scoring one
    if early_stopping:
        got = -log_loss(yv, est.predict_proba(Xv), sample_weight=swv)
        assert got == pytest.approx(est.best_validation_score_, rel=1e-10)


def test_scoring_loss_binary_and_float32(clf_data):
    X, y, Xv, yv = clf_data
    y, yv = y == 1, yv == 1
    X32, Xv32 = X.astype(np.float32), Xv.astype(np.float32)
    est = MLPClassifier(**COMMON, max_iter=3, scoring="loss")
    est.fit(X32, y, X_val=Xv32, y_val=yv)
    proba = est.predict_proba(Xv32).astype(np.float64)
    want = -log_loss(yv, proba / proba.sum(axis=1, keepdims=True))
    assert est.validation_scores_[-1] == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize(
    "loss, metric",
    [
        (
            "squared_error",
            lambda y, p, w: -0.5 * mean_squared_error(y, p, sample_weight=w),
        ),
        ("absolute_error", lambda y, p, w: -mean_absolute_error(y, p, sample_weight=w)),
        (
            "quantile",
            lambda y, p, w: -mean_pinball_loss(y, p, sample_weight=w, alpha=0.8),
        ),
    ],
)
def test_scoring_loss_of_regressors(reg_data, loss, metric):
    X, y, Xv, yv = reg_data
    swv = np.random.default_rng(1).uniform(0.5, 2.0, len(yv))
    extra = {"quantile": 0.8} if loss == "quantile" else {}
    est = MLPRegressor(**COMMON, loss=loss, max_iter=4, scoring="loss", **extra)
    est.fit(X, y, X_val=Xv, y_val=yv, sample_weight_val=swv)
    want = metric(yv, est.predict(Xv), swv)
    assert est.validation_scores_[-1] == pytest.approx(want, rel=1e-10)


def test_scoring_loss_with_target_scaling_is_in_the_trained_space(reg_data):
    """With target_scaling the loss (as loss_curve_) is that of the scaled
    targets."""
    X, y, Xv, yv = reg_data
    est = MLPRegressor(**COMMON, max_iter=4, scoring="loss", target_scaling="standard")
    est.fit(X, y, X_val=Xv, y_val=yv)
    scale, offset = est.target_scale_[0], est.target_offset_[0]
    want = -0.5 * mean_squared_error(
        (yv - offset) / scale, (est.predict(Xv) - offset) / scale
    )
    assert est.validation_scores_[-1] == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("scoring", ["f1_macro", "neg_log_loss", "callable"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_scorer_scores_each_epoch(clf_data, scoring, early_stopping):
    """A str or callable scoring is scikit-learn's scorer of the model at each
    epoch (checked on the last epoch's model, and on the restored best)."""
    X, y, Xv, yv = clf_data
    if scoring == "callable":
        calls = []

        def scoring(est, X_, y_):
            calls.append(len(y_))
            return -np.mean(est.predict(X_) != y_)

    est = MLPClassifier(
        **COMMON, max_iter=12, n_iter_no_change=3, scoring=scoring,
        early_stopping=early_stopping,
    ).fit(X, y, X_val=Xv, y_val=yv)  # fmt: skip
    n_calls = len(calls) if not isinstance(scoring, str) else None
    scorer = get_scorer(scoring) if isinstance(scoring, str) else scoring
    last = clone(est).set_params(max_iter=est.n_iter_, early_stopping=False, tol=0.0)
    last.fit(X, y)
    assert est.validation_scores_[-1] == pytest.approx(scorer(last, Xv, yv), abs=1e-12)
    assert len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)
    if early_stopping:
        got = scorer(est, Xv, yv)
        assert got == pytest.approx(est.best_validation_score_, abs=1e-12)
    else:
        _assert_same_weights(est, last)
    if n_calls is not None:  # once per epoch, on the whole validation set
        assert calls[:n_calls] == [len(yv)] * est.n_iter_


@pytest.mark.parametrize(
    "cls, scoring, data",
    [(MLPClassifier, "accuracy", "clf_data"), (MLPRegressor, "r2", "reg_data")],
)
def test_scorer_on_early_stopping_split_matches_compiled_score(
    cls, scoring, data, request
):
    """Early stopping's own split, scored by scikit-learn's scorer of the same
    metric as the compiled default: the same split, epochs, scores and model."""
    X, y, _, _ = request.getfixturevalue(data)
    params = dict(COMMON, max_iter=30, n_iter_no_change=3, early_stopping=True)
    compiled = cls(**params).fit(X, y)
    scored = cls(**params, scoring=scoring).fit(X, y)
    np.testing.assert_allclose(
        scored.validation_scores_, compiled.validation_scores_, rtol=1e-12
    )
    assert scored.n_iter_ == compiled.n_iter_
    _assert_same_weights(scored, compiled)


def test_sample_weight_val_and_class_weight_weight_the_validation_score(clf_data):
    X, y, Xv, yv = clf_data
    swv = np.random.default_rng(3).uniform(0.0, 3.0, len(yv))
    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    est = MLPClassifier(**COMMON, max_iter=3, class_weight=cw)
    est.fit(X, y, X_val=Xv, y_val=yv, sample_weight_val=swv)
    weights = swv * np.vectorize(cw.get)(yv)
    want = accuracy_score(yv, est.predict(Xv), sample_weight=weights)
    assert est.validation_scores_[-1] == pytest.approx(want, abs=1e-12)


def test_regressor_given_set_r2_multioutput(reg_data):
    X, y, Xv, yv = reg_data
    Y = np.column_stack([y, 2.0 * y + 1.0])
    Yv = np.column_stack([yv, 2.0 * yv + 1.0])
    est = MLPRegressor(**COMMON, max_iter=5, target_scaling="minmax")
    est.fit(X, Y, X_val=Xv, y_val=Yv)
    assert est.validation_scores_[-1] == pytest.approx(
        r2_score(Yv, est.predict(Xv)), rel=1e-9
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(y_val="y"), "need X_val"),
        (dict(X_val="X"), "needs y_val"),
        (dict(X_val="X", y_val="y", sample_weight_val=np.ones(3)), "sample_weight"),
        (dict(X_val="X3", y_val="y"), "features"),
        (dict(X_val="X", y_val="y9"), "labels not in y"),
    ],
)
def test_bad_validation_sets_raise_and_change_nothing(clf_data, kwargs, match):
    X, y, Xv, yv = clf_data
    values = {"X": Xv, "y": yv, "X3": Xv[:, :3], "y9": np.where(yv == 0, 9, yv)}
    kwargs = {k: values[v] if isinstance(v, str) else v for k, v in kwargs.items()}
    est = MLPClassifier(**COMMON, max_iter=2, warm_start=True).fit(X, y)
    before = _weights(est)
    with pytest.raises(ValueError, match=match):
        est.fit(X, y, **kwargs)
    for a, b in zip(before, _weights(est), strict=True):
        np.testing.assert_array_equal(a, b)
    assert est.n_iter_ == 2 and est.validation_scores_ is None


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(solver="lbfgs", lr_schedule="cosine"), "lbfgs"),
        (dict(solver="lbfgs", max_grad_norm=1.0), "lbfgs"),
        (dict(solver="sgd", learning_rate="adaptive", warmup=0.1), "constant"),
        (
            dict(solver="adam", learning_rate="invscaling", lr_schedule="linear"),
            "constant",
        ),
    ],
)
def test_step_options_that_cannot_combine_raise(clf_data, params, match):
    X, y, _, _ = clf_data
    with pytest.raises(ValueError, match=match):
        MLPClassifier(**COMMON, max_iter=2, **params).fit(X, y)


def test_lbfgs_with_validation_set_raises(clf_data):
    X, y, Xv, yv = clf_data
    with pytest.raises(ValueError, match="lbfgs"):
        MLPClassifier(**COMMON, solver="lbfgs").fit(X, y, X_val=Xv, y_val=yv)


@pytest.mark.parametrize(
    "params",
    [
        dict(lr_schedule="step"),
        dict(warmup=1.0),
        dict(warmup=-0.1),
        dict(max_grad_norm=0.0),
        dict(scoring=3),
    ],
)
def test_invalid_values_fail_parameter_validation(clf_data, params):
    X, y, _, _ = clf_data
    with pytest.raises(sklearn.utils._param_validation.InvalidParameterError):
        MLPClassifier(**COMMON, **params).fit(X, y)


def test_metadata_routing_routes_the_validation_set(clf_data):
    """With metadata routing on, a Pipeline routes sample_weight and the
    validation set to the estimator that requests them."""
    X, y, Xv, yv = clf_data
    sw = np.random.default_rng(4).uniform(0.5, 1.5, len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        est = MLPClassifier(**COMMON, max_iter=3).set_fit_request(
            sample_weight=True, X_val=True, y_val=True
        )
        pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False), est)
        pipe.fit(X, y, sample_weight=sw, X_val=Xv, y_val=yv)
    direct = MLPClassifier(**COMMON, max_iter=3).fit(
        StandardScaler().fit_transform(X), y, sample_weight=sw, X_val=Xv, y_val=yv
    )
    _assert_same_weights(pipe[-1], direct)
    assert pipe[-1].validation_scores_ == direct.validation_scores_


def test_clipping_is_bit_identical_for_any_thread_count(reg_data):
    """The gradient norm is summed per CHUNK-element slice in slice order, so a
    clipped fit is the same whatever n_jobs (a net large enough for the
    norm and step phases to run in parallel)."""
    X, y, _, _ = reg_data
    params = dict(
        hidden_layer_sizes=(256, 256), max_iter=2, batch_size=128, random_state=0,
        max_grad_norm=0.5, lr_schedule="cosine", warmup=0.2, weight_decay=0.01,
    )  # fmt: skip
    one = MLPRegressor(**params, n_jobs=1).fit(X, y)
    two = MLPRegressor(**params, n_jobs=2).fit(X, y)
    _assert_same_weights(one, two)
    assert one.loss_curve_ == two.loss_curve_


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_html_repr_links_to_fastmlp(cls):
    """The HTML repr's documentation link is fastmlp's (this version's page),
    not scikit-learn's page of its own MLP."""
    from sklearn.utils import estimator_html_repr

    import fastmlp

    link = cls()._get_doc_link()
    assert link == f"https://pypi.org/project/fastmlp/{fastmlp.__version__}/"
    html = estimator_html_repr(cls())
    assert f'href="{link}"' in html
    assert 'href="https://scikit-learn.org' not in html


@pytest.mark.parametrize("sparse_train", [False, True])
def test_validation_set_in_the_other_format(clf_data, sparse_train):
    """A sparse X_val beside dense X, or the reverse: the validation rows are
    read in the training rows' format; the scores are accuracy_score's."""
    import scipy.sparse as sp

    X, y, Xv, yv = clf_data
    X_fit, Xv_fit = (sp.csr_matrix(X), Xv) if sparse_train else (X, sp.csr_matrix(Xv))
    est = MLPClassifier(**COMMON, max_iter=3).fit(X_fit, y, X_val=Xv_fit, y_val=yv)
    want = accuracy_score(yv, est.predict(Xv))
    assert est.validation_scores_[-1] == pytest.approx(want, abs=1e-12)


def test_unknown_scorer_name_raises_and_changes_nothing(clf_data):
    X, y, Xv, yv = clf_data
    est = MLPClassifier(**COMMON, max_iter=2).fit(X, y)
    before = _weights(est)
    with pytest.raises(ValueError, match="not_a_metric"):
        est.set_params(scoring="not_a_metric").fit(X, y, X_val=Xv, y_val=yv)
    for a, b in zip(before, _weights(est), strict=True):
        np.testing.assert_array_equal(a, b)
