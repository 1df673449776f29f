"""Behaviour parity with scikit-learn 1.9.1 (spec sections 1.1-1.11).

Every test runs scikit-learn's own MLPClassifier/MLPRegressor side by side with
fastmlp on the same tiny data, parameters and random_state, and compares the
result (weights, bookkeeping attributes, messages, printed text), or checks an
exact value derived from the spec. Nothing here is a value copied from fastmlp.
"""

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor

from fastmlp import MLPClassifier, MLPRegressor

RTOL = 1e-6


# ---------------------------------------------------------------- helpers
def clf_data(n=80, n_classes=3, n_features=6, seed=0):
    X, y = make_classification(
        n_samples=n,
        n_features=n_features,
        n_informative=4,
        n_redundant=0,
        n_classes=n_classes,
        random_state=seed,
    )
    return (X - X.mean(0)) / X.std(0), y


def reg_data(n=80, n_targets=1, n_features=5, seed=0):
    X, y = make_regression(
        n_samples=n,
        n_features=n_features,
        n_targets=n_targets,
        noise=5.0,
        random_state=seed,
    )
    return X, y / y.std()


def pair(kind, **kw):
    if kind == "clf":
        return MLPClassifier(**kw), SkClassifier(**kw)
    return MLPRegressor(**kw), SkRegressor(**kw)


def quiet(fn, *ests):
    """Run fn(est) for each estimator, ConvergenceWarning silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for est in ests:
            fn(est)
    return ests


def fit_both(ours, theirs, X, y, **fit_kw):
    return quiet(lambda e: e.fit(X, y, **fit_kw), ours, theirs)


def record(fn):
    """(category, message) of every warning fn raises, Numba's perf notes aside."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [
        (w.category, str(w.message))
        for w in caught
        if "Numba" not in w.category.__name__
    ]


def raises_same(fn, ours, theirs, exc=ValueError):
    """fn raises exc with the same message on both estimators."""
    with pytest.raises(exc) as theirs_err:
        fn(theirs)
    with pytest.raises(exc) as ours_err:
        fn(ours)
    assert type(ours_err.value) is type(theirs_err.value)
    assert str(ours_err.value) == str(theirs_err.value)
    return str(ours_err.value)


def assert_same_weights(ours, theirs, rtol=RTOL):
    assert len(ours.coefs_) == len(theirs.coefs_)
    assert len(ours.intercepts_) == len(theirs.intercepts_)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert a.shape == b.shape
        assert a.dtype == b.dtype
        assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-2)


def assert_same_model(ours, theirs, rtol=RTOL):
    assert_same_weights(ours, theirs, rtol)
    for attr in ("n_iter_", "t_", "n_layers_", "n_outputs_", "out_activation_"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert_allclose(ours.loss_, theirs.loss_, rtol=rtol)
    for attr in ("loss_curve_", "validation_scores_"):
        a, b = getattr(theirs, attr, None), getattr(ours, attr, None)
        if a is None:
            assert b is None, attr
        else:
            assert len(a) == len(b), attr
            assert_allclose(b, a, rtol=rtol, err_msg=attr)
    for attr in ("best_loss_", "best_validation_score_"):
        if not hasattr(theirs, attr):
            assert not hasattr(ours, attr), attr
        elif getattr(theirs, attr) is None:
            assert getattr(ours, attr) is None, attr
        else:
            assert_allclose(getattr(ours, attr), getattr(theirs, attr), rtol=rtol)
    if hasattr(theirs, "classes_"):
        assert_array_equal(ours.classes_, theirs.classes_)


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|-?inf|nan")


def assert_same_printed(ours_out, theirs_out, rtol=RTOL):
    """Same lines and text; numbers may differ by rtol or one unit of the last
    printed digit."""
    ours_lines = ours_out.splitlines()
    theirs_lines = theirs_out.splitlines()
    assert len(ours_lines) == len(theirs_lines), (ours_out, theirs_out)
    for a, b in zip(ours_lines, theirs_lines):
        assert _NUMBER.split(a) == _NUMBER.split(b), (a, b)
        na, nb = _NUMBER.findall(a), _NUMBER.findall(b)
        assert len(na) == len(nb), (a, b)
        for x, y in zip(na, nb):
            decimals = len(y.split(".")[1]) if "." in y and "e" not in y else 0
            assert_allclose(float(x), float(y), rtol=rtol, atol=1.01 * 10.0**-decimals)


# ---------------------------------------------------------- 1. early stopping
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_early_stopping_classifier_restores_best_weights(solver):
    X, y = clf_data(n=80)
    kw = dict(
        hidden_layer_sizes=(8,),
        solver=solver,
        learning_rate_init=0.1,
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=3,
        max_iter=60,
        batch_size=16,
        random_state=0,
    )
    ours, theirs = fit_both(*pair("clf", **kw), X, y)
    # The scenario is meaningful: training ran past the best epoch.
    best_epoch = int(np.argmax(theirs.validation_scores_)) + 1
    assert best_epoch < theirs.n_iter_ < kw["max_iter"]
    assert ours.best_loss_ is None
    assert ours.best_validation_score_ == max(theirs.validation_scores_)
    # accuracy on the stratified 20-row split
    assert len(ours.validation_scores_) == ours.n_iter_
    assert ours.t_ == ours.n_iter_ * 60
    assert_same_model(ours, theirs)
    assert_array_equal(ours.predict(X), theirs.predict(X))


def test_early_stopping_regressor():
    X, y = reg_data(n=80)
    kw = dict(
        hidden_layer_sizes=(8,),
        solver="sgd",
        learning_rate_init=0.05,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=2,
        tol=1e-2,
        max_iter=60,
        batch_size=16,
        random_state=1,
    )
    ours, theirs = fit_both(*pair("reg", **kw), X, y)
    assert theirs.n_iter_ < kw["max_iter"]
    assert ours.best_loss_ is None
    assert ours.t_ == ours.n_iter_ * 64
    assert_same_model(ours, theirs)
    assert_allclose(ours.predict(X), theirs.predict(X), rtol=RTOL, atol=1e-9)


def test_early_stopping_multilabel_and_multioutput_unstratified():
    X, _ = clf_data(n=60)
    Y = (np.random.RandomState(3).rand(60, 3) < 0.5).astype(int)
    kw = dict(
        hidden_layer_sizes=(6,),
        early_stopping=True,
        validation_fraction=0.3,
        n_iter_no_change=2,
        max_iter=20,
        learning_rate_init=0.05,
        random_state=0,
    )
    assert_same_model(*fit_both(*pair("clf", **kw), X, Y))
    Xr, Yr = reg_data(n=60, n_targets=2)
    assert_same_model(*fit_both(*pair("reg", **kw), Xr, Yr))


def test_early_stopping_with_sample_weight_splits_the_weights():
    X, y = clf_data(n=80, n_classes=2)
    sw = np.random.RandomState(0).uniform(0.1, 3.0, 80)
    kw = dict(
        hidden_layer_sizes=(5,),
        early_stopping=True,
        validation_fraction=0.25,
        max_iter=15,
        learning_rate_init=0.05,
        random_state=0,
    )
    ours, theirs = fit_both(*pair("clf", **kw), X, y, sample_weight=sw)
    assert_same_model(ours, theirs)
    # weighted accuracy is generally not a multiple of 1/20
    Xr, yr = reg_data(n=80)
    assert_same_model(*fit_both(*pair("reg", **kw), Xr, yr, sample_weight=sw))


@pytest.mark.parametrize("kind", ["multilabel", "reg"])
def test_validation_set_too_small(kind):
    if kind == "reg":
        X, y = reg_data(n=10)
    else:  # unstratified, so the split itself succeeds with one row
        X, _ = clf_data(n=10)
        y = np.eye(2, dtype=int)[np.arange(10) % 2]
    ours, theirs = pair(
        "reg" if kind == "reg" else "clf", early_stopping=True, validation_fraction=0.1
    )
    msg = raises_same(lambda e: e.fit(X, y), ours, theirs)
    assert msg.startswith("The validation set is too small")


def test_validation_set_smaller_than_class_count_stratified():
    X, y = clf_data(n=10, n_classes=2)
    ours, theirs = pair("clf", early_stopping=True, validation_fraction=0.1)
    raises_same(lambda e: e.fit(X, y), ours, theirs)  # train_test_split's message


def test_partial_fit_with_early_stopping_raises():
    X, y = clf_data(n=40)
    ours, theirs = pair("clf", hidden_layer_sizes=(4,), early_stopping=True)
    msg = raises_same(lambda e: e.partial_fit(X, y, classes=[0, 1, 2]), ours, theirs)
    assert msg == "partial_fit does not support early_stopping=True"
    Xr, yr = reg_data(n=40)
    ours, theirs = pair("reg", hidden_layer_sizes=(4,), early_stopping=True)
    raises_same(lambda e: e.partial_fit(Xr, yr), ours, theirs)
    # after a successful fit too (sklearn gh-25693)
    ours, theirs = fit_both(
        *pair("reg", hidden_layer_sizes=(4,), early_stopping=True, max_iter=3), Xr, yr
    )
    raises_same(lambda e: e.partial_fit(Xr, yr), ours, theirs)


# ------------------------------------------------- 2. tol / n_iter_no_change
def test_n_iter_no_change_stops_after_n_plus_one_bad_epochs():
    X, y = clf_data(n=50)
    # tol=10: epoch 1 improves on best_loss_=inf, every later epoch is "bad";
    # the trigger `count > 3` fires at the 4th bad epoch, i.e. epoch 5.
    kw = dict(
        hidden_layer_sizes=(5,),
        tol=10.0,
        n_iter_no_change=3,
        max_iter=50,
        random_state=0,
    )
    ours, theirs = pair("clf", **kw)
    # no ConvergenceWarning (pytest turns warnings into errors)
    theirs.fit(X, y)
    ours.fit(X, y)
    assert theirs.n_iter_ == 5
    assert_same_model(ours, theirs)
    assert ours.best_loss_ == min(ours.loss_curve_)


def test_max_iter_convergence_warning_message():
    X, y = clf_data(n=40)
    ours, theirs = pair("clf", hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    theirs_w = record(lambda: theirs.fit(X, y))
    ours_w = record(lambda: ours.fit(X, y))
    assert theirs_w == [
        (
            ConvergenceWarning,
            "Stochastic Optimizer: Maximum iterations (3) reached and the "
            "optimization hasn't converged yet.",
        )
    ]
    assert ours_w == theirs_w
    assert_same_model(ours, theirs)


def test_partial_fit_never_warns_about_max_iter():
    X, y = clf_data(n=40)
    ours, theirs = pair("clf", hidden_layer_sizes=(4,), max_iter=1, random_state=0)
    for est in (theirs, ours):  # warnings are errors here
        est.partial_fit(X, y, classes=[0, 1, 2])
        est.partial_fit(X, y)
    assert_same_model(ours, theirs)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_n_iter_no_change_inf_runs_max_iter(solver):
    X, y = reg_data(n=40)
    kw = dict(
        hidden_layer_sizes=(4,),
        solver=solver,
        tol=10.0,
        n_iter_no_change=np.inf,
        max_iter=7,
        random_state=0,
    )
    ours, theirs = pair("reg", **kw)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(7\\)"):
        theirs.fit(X, y)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(7\\)"):
        ours.fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 7
    assert_same_model(ours, theirs)


def test_trigger_on_the_last_epoch_means_no_convergence_warning():
    X, y = clf_data(n=50)
    # as above the trigger fires at epoch 5, which is also max_iter: the loop
    # breaks before the max_iter check, so no ConvergenceWarning.
    kw = dict(
        hidden_layer_sizes=(5,),
        tol=10.0,
        n_iter_no_change=3,
        max_iter=5,
        random_state=0,
    )
    ours, theirs = pair("clf", **kw)
    assert record(lambda: theirs.fit(X, y)) == []
    assert record(lambda: ours.fit(X, y)) == []
    assert_same_model(ours, theirs)


def test_no_improvement_count_carries_over_warm_start_and_partial_fit():
    X, y = clf_data(n=50)
    kw = dict(
        hidden_layer_sizes=(5,),
        tol=10.0,
        n_iter_no_change=3,
        max_iter=3,
        warm_start=True,
        random_state=0,
    )
    ours, theirs = pair("clf", **kw)
    fit_both(ours, theirs, X, y)  # count 2 after 3 epochs
    for est in (theirs, ours):
        est.set_params(max_iter=50)
        est.fit(X, y)  # count 3, 4 > 3: stops after 2 epochs, no warning
    assert theirs.n_iter_ == 2
    assert_same_model(ours, theirs)
    # partial_fit + adaptive sgd: the counter and the learning rate persist
    ours, theirs = pair(
        "clf",
        hidden_layer_sizes=(5,),
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=0.1,
        tol=10.0,
        n_iter_no_change=1,
        random_state=0,
    )
    for call in range(7):
        for est in (ours, theirs):
            est.partial_fit(X, y, classes=[0, 1, 2])
    # triggers at calls 3, 5 and 7 (count 2 > 1, then reset)
    assert_allclose(theirs._optimizer.learning_rate, 0.1 / 5**3)
    assert_allclose(ours._optimizer.learning_rate, theirs._optimizer.learning_rate)
    assert_same_model(ours, theirs)


# ------------------------------------------------------ 3. learning rates
def test_adaptive_learning_rate_divides_by_five_until_1e_6():
    X, y = clf_data(n=40)
    # tol=10: every epoch after the first is bad; with n_iter_no_change=2 the
    # trigger fires every 3rd epoch (4, 7, ...). 0.1 / 5**k > 1e-6 for k <= 7, so
    # 8 divisions happen and the 9th trigger (epoch 1 + 3*9 = 28) stops.
    kw = dict(
        hidden_layer_sizes=(5,),
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=0.1,
        tol=10.0,
        n_iter_no_change=2,
        max_iter=100,
        random_state=0,
    )
    ours, theirs = pair("clf", **kw)
    theirs.fit(X, y)
    ours.fit(X, y)
    assert theirs.n_iter_ == 28
    assert_allclose(theirs._optimizer.learning_rate, 0.1 / 5**8)
    assert_allclose(ours._optimizer.learning_rate, theirs._optimizer.learning_rate)
    assert_same_model(ours, theirs)


def test_adaptive_learning_rate_trained_weights_match():
    X, y = reg_data(n=60)
    kw = dict(
        hidden_layer_sizes=(6,),
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=0.2,
        tol=1e-3,
        n_iter_no_change=1,
        max_iter=40,
        batch_size=10,
        random_state=0,
    )
    ours, theirs = fit_both(*pair("reg", **kw), X, y)
    assert theirs._optimizer.learning_rate < kw["learning_rate_init"]
    assert_allclose(ours._optimizer.learning_rate, theirs._optimizer.learning_rate)
    assert_same_model(ours, theirs)


def test_invscaling_learning_rate_after_each_epoch():
    X, y = clf_data(n=50)
    kw = dict(
        hidden_layer_sizes=(5,),
        solver="sgd",
        learning_rate="invscaling",
        learning_rate_init=0.3,
        power_t=0.25,
        momentum=0.5,
        max_iter=4,
        batch_size=10,
        random_state=0,
    )
    ours, theirs = fit_both(*pair("clf", **kw), X, y)
    assert_allclose(ours._optimizer.learning_rate, 0.3 / (4 * 50 + 1) ** 0.25)
    assert_allclose(ours._optimizer.learning_rate, theirs._optimizer.learning_rate)
    assert_same_model(ours, theirs)


def test_learning_rate_schedules_do_not_apply_to_adam():
    X, y = clf_data(n=50)
    for schedule in ("invscaling", "adaptive"):
        kw = dict(
            hidden_layer_sizes=(5,),
            solver="adam",
            learning_rate=schedule,
            learning_rate_init=0.05,
            max_iter=4,
            tol=10.0,
            n_iter_no_change=1,
            random_state=0,
        )
        assert_same_model(*fit_both(*pair("clf", **kw), X, y))


# ------------------------------------------------------------ 4. warm_start
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_warm_start_continues_and_accumulates(solver):
    X, y = clf_data(n=60)
    kw = dict(
        hidden_layer_sizes=(6,),
        solver=solver,
        warm_start=True,
        max_iter=3,
        learning_rate_init=0.05,
        batch_size=20,
        random_state=0,
    )
    ours, theirs = pair("clf", **kw)
    fit_both(ours, theirs, X, y)
    first = [c.copy() for c in ours.coefs_]
    fit_both(ours, theirs, X, y)
    assert ours.n_iter_ == 3
    assert ours.t_ == 6 * 60
    assert len(ours.loss_curve_) == 6
    assert_same_model(ours, theirs)
    # continued rather than restarted
    assert not np.allclose(first[0], ours.coefs_[0])
    cold = fit_both(*pair("clf", **{**kw, "warm_start": False}), X, y)[0]
    assert not np.allclose(cold.coefs_[0], ours.coefs_[0])


def test_warm_start_lbfgs_and_regressor():
    X, y = reg_data(n=50)
    kw = dict(
        hidden_layer_sizes=(5,),
        solver="lbfgs",
        warm_start=True,
        max_iter=5,
        random_state=0,
    )
    ours, theirs = pair("reg", **kw)
    for _ in range(2):
        fit_both(ours, theirs, X, y)
        assert ours.n_iter_ == theirs.n_iter_
        assert ours.t_ == theirs.t_ == 0
        assert_allclose(ours.loss_, theirs.loss_, rtol=1e-5)
        assert_same_weights(ours, theirs, rtol=1e-4)
    assert not hasattr(ours, "loss_curve_") and not hasattr(theirs, "loss_curve_")


def test_warm_start_with_early_stopping_accumulates_validation_scores():
    X, y = clf_data(n=60)
    kw = dict(
        hidden_layer_sizes=(5,),
        warm_start=True,
        early_stopping=True,
        validation_fraction=0.25,
        max_iter=4,
        learning_rate_init=0.05,
        random_state=0,
    )
    ours, theirs = pair("clf", **kw)
    fit_both(ours, theirs, X, y)
    ours.set_params(max_iter=6)
    theirs.set_params(max_iter=6)
    fit_both(ours, theirs, X, y)
    assert len(ours.validation_scores_) == len(theirs.validation_scores_)
    assert_same_model(ours, theirs)


def test_warm_start_early_stopping_without_new_best_keeps_the_best_weights():
    """Deliberate difference. After an early-stopped fit, scikit-learn's coefs_
    *is* _best_coefs (the same arrays), so a warm fit updates its "best" weights in
    place; if that fit never beats the carried best_validation_score_, its final
    "restore" yields the last epoch's weights. fastmlp restores the weights that
    scored best_validation_score_, i.e. those of the first fit."""
    X, y = clf_data(n=60)
    kw = dict(
        hidden_layer_sizes=(6,),
        warm_start=True,
        early_stopping=True,
        validation_fraction=0.25,
        max_iter=40,
        n_iter_no_change=5,
        learning_rate_init=0.05,
        random_state=0,
    )
    ours, theirs = pair("clf", **kw)
    fit_both(ours, theirs, X, y)
    assert_same_model(ours, theirs)  # the first fit is scikit-learn's model
    best = [c.copy() for c in theirs.coefs_ + theirs.intercepts_]
    for est in (ours, theirs):
        est.set_params(max_iter=3, learning_rate_init=2.0)
    fit_both(ours, theirs, X, y)
    # the scenario: no epoch of the second fit beat the first fit's best ...
    assert max(theirs.validation_scores_[-3:]) <= theirs.best_validation_score_
    # ... so scikit-learn ends on the second fit's last weights, fastmlp on the best
    assert not np.allclose(theirs.coefs_[0], best[0])
    for a, b in zip(ours.coefs_ + ours.intercepts_, best):
        assert_allclose(a, b, rtol=1e-6, atol=1e-9)
    assert ours.best_validation_score_ == theirs.best_validation_score_


def test_warm_start_with_different_classes_raises():
    X, y = clf_data(n=60)
    ours, theirs = pair(
        "clf", hidden_layer_sizes=(4,), warm_start=True, max_iter=2, random_state=0
    )
    fit_both(ours, theirs, X, y)
    mask = y < 2
    msg = raises_same(lambda e: e.fit(X[mask], y[mask]), ours, theirs)
    assert msg.startswith("warm_start can only be used where `y` has the same classes")


# ----------------------------------------------------------- 5. partial_fit
def test_partial_fit_first_call_needs_classes():
    X, y = clf_data(n=30)
    ours, theirs = pair("clf", hidden_layer_sizes=(3,))
    msg = raises_same(lambda e: e.partial_fit(X, y), ours, theirs)
    assert msg == "classes must be passed on the first call to partial_fit."


def test_partial_fit_unseen_labels_raise():
    X, y = clf_data(n=30)
    ours, theirs = pair("clf", hidden_layer_sizes=(3,), random_state=0)
    for est in (ours, theirs):
        est.partial_fit(X, y, classes=[0, 1, 2])
    raises_same(lambda e: e.partial_fit(X, y + 1), ours, theirs)
    # classes differing from the first call's are refused as well
    raises_same(lambda e: e.partial_fit(X, y, classes=[0, 1, 2, 3]), ours, theirs)
    # a subset of the classes is fine
    for est in (ours, theirs):
        est.partial_fit(X[y == 1], y[y == 1])
    assert_same_model(ours, theirs)


def test_partial_fit_classes_bigger_than_y():
    X, y = clf_data(n=30, n_classes=2)
    ours, theirs = pair("clf", hidden_layer_sizes=(3,), random_state=0)
    for est in (ours, theirs):
        est.partial_fit(X, y, classes=[0, 1, 2])
    assert ours.out_activation_ == "softmax" and ours.n_outputs_ == 3
    assert_same_model(ours, theirs)
    assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=RTOL)


def test_partial_fit_multilabel():
    """The first call needs `classes` even for an indicator y (sklearn 1.9.1's
    _check_partial_fit_first_call); the binarizer is then fit on y itself."""
    X, _ = clf_data(n=40)
    Y = (np.random.RandomState(1).rand(40, 3) < 0.5).astype(int)
    ours, theirs = pair(
        "clf", hidden_layer_sizes=(5,), learning_rate_init=0.05, random_state=0
    )
    msg = raises_same(lambda e: e.partial_fit(X, Y), ours, theirs)
    assert msg == "classes must be passed on the first call to partial_fit."
    for call in range(3):
        for est in (ours, theirs):
            if call == 0:
                est.partial_fit(X, Y, classes=[0, 1, 2])
            else:
                est.partial_fit(X, Y)
    assert_array_equal(ours.classes_, np.arange(3))
    assert_same_model(ours, theirs)
    assert_array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("n_targets", [1, 2])
def test_regressor_partial_fit(solver, n_targets):
    X, y = reg_data(n=50, n_targets=n_targets)
    ours, theirs = pair(
        "reg",
        hidden_layer_sizes=(5,),
        solver=solver,
        learning_rate_init=0.05,
        batch_size=16,
        random_state=0,
    )
    for call in range(1, 4):
        for est in (ours, theirs):
            est.partial_fit(X, y)
        assert ours.n_iter_ == 1
        assert ours.t_ == 50 * call
        assert len(ours.loss_curve_) == call
        assert_same_model(ours, theirs)


@pytest.mark.parametrize("random_state", ["int", "instance"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_random_state_semantics(random_state, solver):
    """An int replays the same shuffle each call; a RandomState is shared."""
    X, y = clf_data(n=60)

    def rs():
        return 7 if random_state == "int" else np.random.RandomState(7)

    ours = MLPClassifier(
        (6,), solver=solver, batch_size=8, learning_rate_init=0.05, random_state=rs()
    )
    theirs = SkClassifier(
        (6,), solver=solver, batch_size=8, learning_rate_init=0.05, random_state=rs()
    )
    for call in range(3):
        for est in (ours, theirs):
            if call == 0:
                est.partial_fit(X, y, classes=np.unique(y))
            else:
                est.partial_fit(X, y)
        assert ours.n_iter_ == 1
        assert ours.t_ == 60 * (call + 1)
        assert_same_model(ours, theirs)


def test_partial_fit_after_fit_continues():
    X, y = clf_data(n=50)
    ours, theirs = fit_both(
        *pair("clf", hidden_layer_sizes=(5,), max_iter=2, random_state=0), X, y
    )
    for est in (ours, theirs):
        est.partial_fit(X, y)
    assert ours.t_ == 150 and len(ours.loss_curve_) == 3
    assert_same_model(ours, theirs)


def test_partial_fit_availability_lbfgs_quirk():
    assert not hasattr(SkClassifier(solver="lbfgs"), "partial_fit")
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    assert hasattr(MLPClassifier(solver="sgd"), "partial_fit")
    assert hasattr(SkRegressor(solver="lbfgs"), "partial_fit")
    assert hasattr(MLPRegressor(solver="lbfgs"), "partial_fit")
    # ... and it runs a full lbfgs fit, continuing on the next call
    X, y = reg_data(n=40)
    ours, theirs = pair(
        "reg", hidden_layer_sizes=(4,), solver="lbfgs", max_iter=8, random_state=0
    )
    for _ in range(2):
        quiet(lambda e: e.partial_fit(X, y), ours, theirs)
        assert theirs.n_iter_ > 1
        assert ours.n_iter_ == theirs.n_iter_
        assert ours.t_ == theirs.t_ == 0
        assert_allclose(ours.loss_, theirs.loss_, rtol=1e-5)
        assert_same_weights(ours, theirs, rtol=1e-4)


def test_partial_fit_string_classes():
    X, y = clf_data(n=45)
    labels = np.array(["cat", "dog", "emu"])[y]
    ours, theirs = pair("clf", hidden_layer_sizes=(4,), random_state=0)
    for est in (ours, theirs):
        est.partial_fit(X, labels, classes=["emu", "cat", "dog"])
        est.partial_fit(X, labels)
    assert_same_model(ours, theirs)
    assert_array_equal(ours.predict(X), theirs.predict(X))


# --------------------------------------------------------------- 6. verbose
def printed(capsys, fn, est):
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fn(est)
    return capsys.readouterr().out


VERBOSE_CASES = {
    "max_iter": ("clf", dict(max_iter=4)),
    "tol_stop": ("clf", dict(tol=10.0, n_iter_no_change=2, max_iter=30)),
    "early_stopping": (
        "clf",
        dict(
            early_stopping=True,
            validation_fraction=0.25,
            n_iter_no_change=2,
            learning_rate_init=0.1,
            max_iter=40,
        ),
    ),
    "early_stopping_reg": (
        "reg",
        dict(
            early_stopping=True,
            validation_fraction=0.25,
            n_iter_no_change=2,
            tol=1e-2,
            learning_rate_init=0.05,
            max_iter=40,
        ),
    ),
    "adaptive": (
        "clf",
        dict(
            solver="sgd",
            learning_rate="adaptive",
            learning_rate_init=0.001,
            tol=10.0,
            n_iter_no_change=1,
            max_iter=60,
        ),
    ),
}


@pytest.mark.parametrize("case", list(VERBOSE_CASES))
def test_verbose_output_matches(capsys, case):
    kind, kw = VERBOSE_CASES[case]
    X, y = clf_data(n=60) if kind == "clf" else reg_data(n=60)
    ours, theirs = pair(
        kind, hidden_layer_sizes=(5,), verbose=True, random_state=0, **kw
    )
    theirs_out = printed(capsys, lambda e: e.fit(X, y), theirs)
    ours_out = printed(capsys, lambda e: e.fit(X, y), ours)
    assert theirs_out.startswith("Iteration 1, loss = ")
    assert_same_printed(ours_out, theirs_out)
    expected = {
        "max_iter": "Iteration 4, loss = ",
        "tol_stop": "Training loss did not improve more than tol=10.000000 for 2 "
        "consecutive epochs. Stopping.",
        "early_stopping": "Validation score did not improve more than tol=0.000100",
        "early_stopping_reg": "Validation score: 0.9",
        "adaptive": "Setting learning rate to 0.000200",
    }[case]
    assert expected in theirs_out
    if case == "adaptive":
        assert "Learning rate too small. Stopping." in theirs_out


def test_verbose_partial_fit_and_lbfgs(capsys):
    X, y = clf_data(n=40)
    ours, theirs = pair("clf", hidden_layer_sizes=(4,), verbose=True, random_state=0)

    def three_calls(est):
        for _ in range(3):
            est.partial_fit(X, y, classes=[0, 1, 2])

    theirs_out = printed(capsys, three_calls, theirs)
    ours_out = printed(capsys, three_calls, ours)
    assert theirs_out.count("Iteration 1, loss") == 3
    assert_same_printed(ours_out, theirs_out)
    # lbfgs prints nothing on SciPy >= 1.15 (quirk 4)
    ours, theirs = pair(
        "clf",
        hidden_layer_sizes=(4,),
        solver="lbfgs",
        verbose=True,
        max_iter=5,
        random_state=0,
    )
    assert printed(capsys, lambda e: e.fit(X, y), ours) == printed(
        capsys, lambda e: e.fit(X, y), theirs
    )


# --------------------------------------------------------- 7. sample_weight
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_sample_weight_fit_regressor_and_classifier(solver):
    rng = np.random.RandomState(0)
    sw = rng.uniform(0.0, 4.0, 60)
    sw[::7] = 0.0
    X, y = reg_data(n=60)
    kw = dict(
        hidden_layer_sizes=(5,),
        solver=solver,
        max_iter=4,
        batch_size=16,
        learning_rate_init=0.05,
        random_state=0,
    )
    assert_same_model(*fit_both(*pair("reg", **kw), X, y, sample_weight=sw))
    Xc, yc = clf_data(n=60)
    assert_same_model(*fit_both(*pair("clf", **kw), Xc, yc, sample_weight=sw))


def test_negative_sample_weights_are_accepted():
    X, y = reg_data(n=40)
    sw = np.ones(40)
    sw[:5] = -0.5
    kw = dict(hidden_layer_sizes=(4,), solver="sgd", max_iter=3, random_state=0)
    assert_same_model(*fit_both(*pair("reg", **kw), X, y, sample_weight=sw))


def test_sample_weight_partial_fit():
    X, y = clf_data(n=50)
    sw = np.random.RandomState(2).uniform(0.1, 2.0, 50)
    ours, theirs = pair(
        "clf", hidden_layer_sizes=(5,), solver="sgd", batch_size=12, random_state=0
    )
    for est in (ours, theirs):
        est.partial_fit(X, y, sample_weight=sw, classes=[0, 1, 2])
        est.partial_fit(X, y, sample_weight=sw[::-1])
    assert_same_model(ours, theirs)
    Xr, yr = reg_data(n=50)
    ours, theirs = pair("reg", hidden_layer_sizes=(5,), random_state=0)
    for est in (ours, theirs):
        est.partial_fit(Xr, yr, sample_weight=sw)
    assert_same_model(ours, theirs)


LBFGS_CLF = dict(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=15, random_state=0)


def test_lbfgs_integer_weights_equal_repetition():
    X, y = clf_data(n=40)
    sw = np.random.RandomState(0).randint(1, 4, 40)
    weighted, theirs = fit_both(*pair("clf", **LBFGS_CLF), X, y, sample_weight=sw)
    assert_allclose(weighted.loss_, theirs.loss_, rtol=1e-5)
    assert_same_weights(weighted, theirs, rtol=1e-4)
    repeated = MLPClassifier(**LBFGS_CLF)
    quiet(lambda e: e.fit(np.repeat(X, sw, axis=0), np.repeat(y, sw)), repeated)
    assert repeated.n_iter_ == weighted.n_iter_
    assert_allclose(repeated.loss_, weighted.loss_, rtol=1e-6)
    assert_same_weights(repeated, weighted, rtol=1e-4)


def test_lbfgs_zero_weight_equals_removal():
    X, y = clf_data(n=40)
    sw = np.ones(40)
    sw[::3] = 0.0
    weighted, theirs = fit_both(*pair("clf", **LBFGS_CLF), X, y, sample_weight=sw)
    assert_same_weights(weighted, theirs, rtol=1e-4)
    keep = sw > 0
    removed = MLPClassifier(**LBFGS_CLF)
    quiet(lambda e: e.fit(X[keep], y[keep]), removed)
    assert removed.n_iter_ == weighted.n_iter_
    assert_allclose(removed.loss_, weighted.loss_, rtol=1e-6)
    assert_same_weights(removed, weighted, rtol=1e-4)


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_all_zero_sample_weights_raise(kind):
    X, y = clf_data(n=20) if kind == "clf" else reg_data(n=20)
    ours, theirs = pair(kind, hidden_layer_sizes=(3,))
    msg = raises_same(lambda e: e.fit(X, y, sample_weight=np.zeros(20)), ours, theirs)
    assert msg == "Sample weights must contain at least one non-zero number."


# ----------------------------------------------------- 8. target types
@pytest.mark.parametrize(
    "target, out_act, n_out",
    [
        ("binary", "logistic", 1),
        ("multiclass", "softmax", 4),
        ("multilabel", "logistic", 3),
    ],
)
def test_target_types(target, out_act, n_out):
    X, y = clf_data(n=60, n_classes=4)
    if target == "binary":
        y = y % 2
    elif target == "multilabel":
        y = (np.random.RandomState(0).rand(60, 3) < 0.4).astype(int)
    kw = dict(
        hidden_layer_sizes=(6,), max_iter=5, learning_rate_init=0.05, random_state=0
    )
    ours, theirs = fit_both(*pair("clf", **kw), X, y)
    assert theirs.out_activation_ == out_act and theirs.n_outputs_ == n_out
    assert_same_model(ours, theirs)
    pred = ours.predict(X)
    assert pred.shape == theirs.predict(X).shape
    assert_array_equal(pred, theirs.predict(X))
    proba = ours.predict_proba(X)
    assert proba.shape == (60, max(n_out, 2))
    assert_allclose(proba, theirs.predict_proba(X), rtol=RTOL)
    if target != "multilabel":
        assert_allclose(proba.sum(axis=1), 1.0)


def test_single_class_y():
    X, _ = clf_data(n=30)
    y = np.full(30, 7)
    ours, theirs = fit_both(
        *pair("clf", hidden_layer_sizes=(3,), max_iter=3, random_state=0), X, y
    )
    assert_same_model(ours, theirs)
    assert_array_equal(ours.predict(X), theirs.predict(X))
    assert_array_equal(ours.predict(X), np.full(30, 7))
    proba = ours.predict_proba(X)
    assert proba.shape == (30, 2)
    assert_allclose(proba, theirs.predict_proba(X), rtol=RTOL)


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_column_vector_y_warns(kind):
    X, y = clf_data(n=30) if kind == "clf" else reg_data(n=30)
    ours, theirs = pair(kind, hidden_layer_sizes=(3,), max_iter=3, random_state=0)
    theirs_w = record(lambda: theirs.fit(X, y.reshape(-1, 1)))
    ours_w = record(lambda: ours.fit(X, y.reshape(-1, 1)))
    assert DataConversionWarning in [c for c, _ in theirs_w]
    assert ours_w == theirs_w
    assert_same_model(ours, theirs)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_string_labels_multiclass(solver):
    X, y = clf_data(n=60)
    labels = np.array(["zeta", "alpha", "mu"], dtype=object)[y]
    ours, theirs = fit_both(
        *pair(
            "clf", hidden_layer_sizes=(5,), solver=solver, max_iter=5, random_state=0
        ),
        X,
        labels,
    )
    assert_array_equal(ours.classes_, ["alpha", "mu", "zeta"])
    assert_array_equal(ours.predict(X), theirs.predict(X))
    assert ours.predict(X).dtype == theirs.predict(X).dtype
    assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-4)


def test_multiclass_multioutput_y_raises():
    X, _ = clf_data(n=20)
    Y = np.random.RandomState(0).randint(0, 3, (20, 2))
    ours, theirs = pair("clf", hidden_layer_sizes=(3,))
    raises_same(lambda e: e.fit(X, Y), ours, theirs)


# ------------------------------------------ 9. multi-output and poisson regression
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_multi_output_regression_five_epochs(solver):
    X, Y = reg_data(n=50, n_targets=4)
    kw = dict(
        hidden_layer_sizes=(6, 4),
        activation="tanh",
        solver=solver,
        max_iter=5,
        learning_rate_init=0.02,
        batch_size=10,
        shuffle=False,
        random_state=0,
    )
    ours, theirs = fit_both(*pair("reg", **kw), X, Y)
    assert ours.n_outputs_ == 4
    assert_same_model(ours, theirs)
    assert_allclose(ours.predict(X), theirs.predict(X), rtol=RTOL, atol=1e-9)
    assert_allclose(ours.score(X, Y), theirs.score(X, Y), rtol=RTOL)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("n_targets", [1, 2])
def test_poisson_regression_stochastic(solver, n_targets):
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (60, 3))
    mu = np.exp(X @ rng.uniform(-1, 1, (3, n_targets)) + 0.5)
    y = rng.poisson(mu).astype(float)
    if n_targets == 1:
        y = y.ravel()
    kw = dict(
        loss="poisson",
        hidden_layer_sizes=(5,),
        solver=solver,
        max_iter=5,
        learning_rate_init=0.02,
        batch_size=15,
        random_state=0,
    )
    ours, theirs = fit_both(*pair("reg", **kw), X, y)
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    assert_same_model(ours, theirs)
    pred = ours.predict(X)
    assert (pred > 0).all()
    assert_allclose(pred, theirs.predict(X), rtol=RTOL)


def test_poisson_regression_lbfgs():
    rng = np.random.RandomState(1)
    X = rng.uniform(0, 1, (50, 2))
    y = rng.poisson(np.exp(X.sum(1))).astype(float)
    kw = dict(
        loss="poisson",
        hidden_layer_sizes=(3,),
        solver="lbfgs",
        max_iter=30,
        random_state=0,
    )
    ours, theirs = fit_both(*pair("reg", **kw), X, y)
    assert ours.out_activation_ == "exp"
    assert ours.n_iter_ == theirs.n_iter_
    assert_allclose(ours.loss_, theirs.loss_, rtol=1e-5)
    assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-4)


# ------------------------------------------------------ 10. predict_log_proba
@pytest.mark.parametrize("target", ["binary", "multiclass", "multilabel"])
def test_predict_log_proba(target):
    X, y = clf_data(n=40, n_classes=3)
    if target == "binary":
        y = y % 2
    elif target == "multilabel":
        y = (np.random.RandomState(0).rand(40, 3) < 0.5).astype(int)
    ours, theirs = fit_both(
        *pair("clf", hidden_layer_sizes=(4,), max_iter=4, random_state=0), X, y
    )
    log_proba = ours.predict_log_proba(X)
    assert_array_equal(log_proba, np.log(ours.predict_proba(X)))
    assert_allclose(log_proba, theirs.predict_log_proba(X), rtol=RTOL)


# ---------------------------------------------------------- 11. divergence
NON_FINITE = "Solver produced non-finite parameter weights"


def test_huge_inputs_give_non_finite_weights_error():
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    y = rng.standard_normal(10)
    for est in pair("reg", hidden_layer_sizes=(3,), max_iter=5, random_state=0)[::-1]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # overflow RuntimeWarnings
            with pytest.raises(ValueError, match=NON_FINITE):
                est.fit(X, y)


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_huge_learning_rate_sgd_diverges(kind):
    X, y = clf_data(n=30) if kind == "clf" else reg_data(n=30)
    X = X * 1e10
    kw = dict(
        hidden_layer_sizes=(4,),
        solver="sgd",
        learning_rate_init=1e10,
        max_iter=20,
        random_state=0,
    )
    for est in pair(kind, **kw)[::-1]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(ValueError, match=NON_FINITE):
                est.fit(X, y)


def test_diverging_with_early_stopping_keeps_best_weights():
    """sklearn gh-29504: the validation score becomes NaN (a float), no error, and
    the best weights are restored. scikit-learn trains on with NaN weights until
    max_iter; fastmlp stops in the epoch that diverged (issue 7), after recording
    it, so its curves are a prefix of scikit-learn's."""
    X, y = reg_data(n=60)
    X = X * 1e3
    kw = dict(
        hidden_layer_sizes=(10,),
        activation="identity",
        solver="sgd",
        learning_rate_init=1.0,
        max_iter=8,
        early_stopping=True,
        n_iter_no_change=10,
        random_state=0,
    )
    ests = pair("reg", **kw)
    for est in ests:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
    ours, theirs = ests
    assert str(theirs.validation_scores_[-1]) == "nan"
    assert isinstance(ours.validation_scores_[-1], float)
    assert str(ours.validation_scores_[-1]) == "nan"
    k = ours.n_iter_
    assert 1 < k < theirs.n_iter_
    assert_allclose(ours.validation_scores_, theirs.validation_scores_[:k], rtol=1e-5)
    assert not np.isfinite(ours.loss_curve_[-1])
    assert_allclose(ours.loss_curve_[:-1], theirs.loss_curve_[: k - 1], rtol=1e-5)
    assert_same_weights(ours, theirs, rtol=1e-5)


# ------------------------------------------------------------------ 12. lbfgs
def test_lbfgs_float32_gives_float64_params():
    X, y = clf_data(n=40)
    X32 = X.astype(np.float32)
    ours, theirs = fit_both(*pair("clf", **LBFGS_CLF), X32, y)
    assert all(c.dtype == np.float64 for c in theirs.coefs_ + theirs.intercepts_)
    assert_same_weights(ours, theirs, rtol=1e-4)
    assert ours.predict_proba(X32).dtype == theirs.predict_proba(X32).dtype
    assert ours.n_iter_ == theirs.n_iter_
    assert_allclose(ours.loss_, theirs.loss_, rtol=1e-5)


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_lbfgs_max_fun(kind):
    X, y = clf_data(n=50) if kind == "clf" else reg_data(n=50)
    ours, theirs = pair(
        kind, hidden_layer_sizes=(5,), solver="lbfgs", max_fun=6, random_state=0
    )
    theirs_w = record(lambda: theirs.fit(X, y))
    ours_w = record(lambda: ours.fit(X, y))
    assert theirs.n_iter_ <= 6
    assert ours.n_iter_ == theirs.n_iter_
    assert ours_w == theirs_w
    assert theirs_w[0][0] is ConvergenceWarning
    assert "F,G EVALUATIONS EXCEEDS LIMIT" in theirs_w[0][1]
    assert_allclose(ours.loss_, theirs.loss_, rtol=1e-5)


def test_lbfgs_max_iter_warning_text():
    X, y = clf_data(n=50)
    ours, theirs = pair(
        "clf", hidden_layer_sizes=(5,), solver="lbfgs", max_iter=3, random_state=0
    )
    theirs_w = record(lambda: theirs.fit(X, y))
    ours_w = record(lambda: ours.fit(X, y))
    assert len(theirs_w) == 1
    assert theirs_w[0][1].startswith("lbfgs failed to converge after 3 iteration(s)")
    assert ours_w == theirs_w
    assert ours.n_iter_ == theirs.n_iter_ == 3
    assert_allclose(ours.loss_, theirs.loss_, rtol=1e-6)
    assert_same_weights(ours, theirs, rtol=1e-5)


def test_lbfgs_regressor_converged_matches():
    X, y = reg_data(n=40)
    kw = dict(
        hidden_layer_sizes=(3,),
        solver="lbfgs",
        tol=1e-3,
        max_iter=500,
        activation="tanh",
        random_state=0,
    )
    ours, theirs = pair("reg", **kw)
    theirs.fit(X, y)  # converges: no warning
    ours.fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ < 500
    assert_allclose(ours.loss_, theirs.loss_, rtol=1e-5)
    assert not hasattr(ours, "best_loss_") and not hasattr(ours, "validation_scores_")


# ------------------------------------------------------------- 13. batch_size
BATCH_MSG = (
    "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped"
)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_batch_size_larger_than_n_samples(early_stopping):
    X, y = clf_data(n=50)
    # with early stopping 40 training rows remain, so 45 is too large too
    batch = 45 if early_stopping else 500
    ours, theirs = pair(
        "clf",
        hidden_layer_sizes=(4,),
        batch_size=batch,
        max_iter=3,
        early_stopping=early_stopping,
        validation_fraction=0.2,
        random_state=0,
    )
    theirs_w = record(lambda: theirs.fit(X, y))
    ours_w = record(lambda: ours.fit(X, y))
    assert (UserWarning, BATCH_MSG) in theirs_w
    assert ours_w == theirs_w
    assert_same_model(ours, theirs)


def test_batch_size_ignored_by_lbfgs():
    X, y = reg_data(n=30)
    ours, theirs = pair(
        "reg",
        hidden_layer_sizes=(3,),
        solver="lbfgs",
        batch_size=1000,
        max_iter=5,
        random_state=0,
    )
    theirs_w = record(lambda: theirs.fit(X, y))
    ours_w = record(lambda: ours.fit(X, y))
    assert ours_w == theirs_w
    assert_same_weights(ours, theirs, rtol=1e-5)


# ------------------------------------------------------ 14. hidden_layer_sizes
@pytest.mark.parametrize("hidden", [7, (), [3, 4], np.array([4, 2])])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_hidden_layer_sizes_forms(hidden, solver):
    X, y = clf_data(n=40)
    kw = dict(hidden_layer_sizes=hidden, solver=solver, max_iter=4, random_state=0)
    ours, theirs = fit_both(*pair("clf", **kw), X, y)
    n_hidden = 1 if isinstance(hidden, int) else len(hidden)
    assert ours.n_layers_ == theirs.n_layers_ == n_hidden + 2
    if solver == "lbfgs":
        assert ours.n_iter_ == theirs.n_iter_
        assert_same_weights(ours, theirs, rtol=1e-5)
    else:
        assert_same_model(ours, theirs)
    assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-5)
    Xr, yr = reg_data(n=40)
    ours, theirs = fit_both(*pair("reg", **kw), Xr, yr)
    assert_same_weights(ours, theirs, rtol=1e-5)


@pytest.mark.parametrize("hidden", [(3, 0), [0], (-1,)])
def test_hidden_layer_sizes_zero_raises(hidden):
    X, y = clf_data(n=20)
    ours, theirs = pair("clf", hidden_layer_sizes=hidden)
    msg = raises_same(lambda e: e.fit(X, y), ours, theirs)
    assert msg.startswith("hidden_layer_sizes must be > 0")


def test_hidden_layer_sizes_int_zero_is_invalid_parameter():
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = reg_data(n=20)
    ours, theirs = pair("reg", hidden_layer_sizes=0)
    msg = raises_same(lambda e: e.fit(X, y), ours, theirs, exc=InvalidParameterError)
    assert "hidden_layer_sizes" in msg


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_float32_regressor_with_float64_y(loss, solver):
    """float32 X keeps float32 weights; sklearn keeps y float64 (so p - y is
    float64 there): agreement at float32 precision."""
    X, y = reg_data(n=60, n_targets=2)
    y = np.abs(y) if loss == "poisson" else y
    kw = dict(
        loss=loss,
        hidden_layer_sizes=(5,),
        solver=solver,
        max_iter=5,
        batch_size=16,
        early_stopping=True,
        validation_fraction=0.2,
        random_state=0,
    )
    ours, theirs = fit_both(*pair("reg", **kw), X.astype(np.float32), y)
    assert ours.coefs_[0].dtype == theirs.coefs_[0].dtype == np.float32
    assert_same_weights(ours, theirs, rtol=1e-4)
    assert ours.n_iter_ == theirs.n_iter_
    assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-5)
    assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=1e-4)
    pred = ours.predict(X.astype(np.float32))
    assert pred.dtype == theirs.predict(X.astype(np.float32)).dtype
