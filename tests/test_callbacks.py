"""scikit-learn's callbacks (sklearn.callback, scikit-learn >= 1.9): one root
task per fit/partial_fit, one subtask per epoch or L-BFGS iteration, stop
requests, ProgressBar, ScoringMonitor, Pipeline and GridSearchCV propagation,
and the rollback of a failed fit (fastmlp/_callbacks.py)."""

import importlib.util
import re
import sys
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss, r2_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import fastmlp._callbacks as callbacks
from fastmlp import MLPClassifier, MLPRegressor

HAVE_CALLBACKS = importlib.util.find_spec("sklearn.callback") is not None
needs_callbacks = pytest.mark.skipif(
    not HAVE_CALLBACKS, reason="sklearn.callback needs scikit-learn >= 1.9"
)
SMALL = dict(hidden_layer_sizes=(6,), random_state=0)
# the attributes a fit with callbacks may add for its duration only
TRANSIENT = ("_callback_fit_ctx", "_skl_callbacks_to_teardown", "_callback_hooks")


@pytest.fixture(scope="module")
def clf_data():
    return make_classification(n_samples=120, n_features=5, random_state=0)


@pytest.fixture(scope="module")
def reg_data():
    X, y = make_regression(n_samples=120, n_features=5, noise=1.0, random_state=0)
    return X, y / 100


def quiet_fit(est, *args, **kw):
    """fit, ignoring ConvergenceWarning (the short reference fits)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kw)


def assert_same_weights(a, b):
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(wa, wb)


class Recorder:
    """A FitCallback that records every hook call (context, fitted_estimator)."""

    def __init__(self, stop_after=None, fail_after=None):
        self.records = []
        self.stop_after = stop_after  # ask to stop at the end of this subtask
        self.fail_after = fail_after  # raise at the end of this subtask

    def setup(self, estimator, context):
        self.records.append(("setup", estimator, context, None))

    def teardown(self, estimator, context):
        self.records.append(("teardown", estimator, context, None))

    def on_fit_task_begin(self, estimator, context, *, fitted_estimator=None):
        self.records.append(("begin", estimator, context, fitted_estimator))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.records.append(("end", estimator, context, fitted_estimator))
        is_leaf = context.parent is not None and context.max_subtasks == 0
        if is_leaf and context.task_id == self.fail_after:
            raise RuntimeError("callback failed")
        return is_leaf and context.task_id == self.stop_after

    def count(self, hook):
        return sum(r[0] == hook for r in self.records)

    def subtasks(self, hook, name):
        return [r for r in self.records if r[0] == hook and r[2].task_name == name]


class AutoRecorder(Recorder):
    """Auto-propagated: set on a meta-estimator, it reaches the MLPs inside."""

    max_propagation_depth = None


def assert_no_callback_leftovers(est):
    for name in TRANSIENT + ("_parent_callback_ctx",):
        assert not hasattr(est, name), name


# ------------------------------------------------------------ availability
def test_guarded_import_before_1_9(monkeypatch):
    """Without sklearn.callback (scikit-learn < 1.9) the module imports, its
    mixin adds no set_callbacks, and fits get the no-op hooks."""
    monkeypatch.setitem(sys.modules, "sklearn.callback", None)
    path = Path(callbacks.__file__)
    spec = importlib.util.spec_from_file_location("_callbacks_before_1_9", path)
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)

    class Est(old.CallbackSupportMixin, BaseEstimator):
        pass

    assert not hasattr(Est(), "set_callbacks")
    assert old.fit_task(Est(), None, None, None) is old.NO_HOOKS
    assert old.hooks_of(Est()) is old.NO_HOOKS


@needs_callbacks
def test_estimators_are_callback_enabled():
    from sklearn.callback import CallbackSupportMixin

    for Est in (MLPClassifier, MLPRegressor):
        est = Est()
        assert isinstance(est, CallbackSupportMixin)
        params = est.get_params()
        cb = Recorder()
        assert est.set_callbacks(cb) is est
        assert est.get_params() == params  # callbacks are not parameters
        assert est._skl_callbacks == [cb]
        cloned = clone(est)
        assert cloned._skl_callbacks[0] is cb  # scikit-learn's clone: by reference
        assert cloned.get_params() == params
        est.set_callbacks()
        assert not hasattr(est, "_skl_callbacks")
        with pytest.raises(TypeError):
            est.set_callbacks(Recorder)  # a class, not an instance


# ------------------------------------------------------------- sgd, adam
@needs_callbacks
@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_one_task_per_epoch(Est, solver, early_stopping, clf_data, reg_data):
    X, y = clf_data if Est is MLPClassifier else reg_data
    kw = dict(SMALL, solver=solver, max_iter=12, early_stopping=early_stopping)
    kw.update(learning_rate_init=0.01, n_iter_no_change=3, tol=1e-3)
    cb = Recorder()
    est = quiet_fit(Est(**kw).set_callbacks(cb), X, y)
    n = est.n_iter_

    assert [r[0] for r in cb.records] == (
        ["setup", "begin"] + ["begin", "end"] * n + ["end", "teardown"]
    )
    assert all(r[1] is est for r in cb.records)  # the estimator being fitted
    root = cb.records[0][2]
    assert cb.records[-1][2] is root  # teardown
    assert (root.task_name, root.task_id, root.parent) == ("fit", 0, None)
    assert root.max_subtasks == kw["max_iter"]
    begins, ends = cb.subtasks("begin", "epoch"), cb.subtasks("end", "epoch")
    assert [r[2].task_id for r in begins] == list(range(n))
    assert [r[2] for r in ends] == [r[2] for r in begins]
    assert all(r[2].parent is root and r[2].max_subtasks == 0 for r in ends)
    # the root's end gets the fitted estimator itself (a copy of it)
    final = cb.records[-2][3]
    assert final is not est
    assert_same_weights(final, est)
    assert_no_callback_leftovers(est)
    assert est._skl_callbacks == [cb]

    # each epoch's fitted_estimator is the model a fit of that many epochs
    # gives, bit for bit; the begin of epoch i has epoch i - 1's weights
    plain = Est(**kw)
    for i in sorted({0, 1, n // 2, n - 1}):
        ref = quiet_fit(clone(plain).set_params(max_iter=i + 1), X, y)
        at_end = ends[i][3]
        assert at_end.n_iter_ == i + 1 and at_end.loss_ == est.loss_curve_[i]
        if not early_stopping:  # else ref holds the best weights, not epoch i's
            assert_same_weights(at_end, ref)
            np.testing.assert_array_equal(at_end.predict(X), ref.predict(X))
        if i + 1 < n:
            assert_same_weights(begins[i + 1][3], at_end)
            assert begins[i + 1][3].n_iter_ == i + 1

    # and the fit is the fit without callbacks, bit for bit
    ref = quiet_fit(clone(plain), X, y)
    assert_same_weights(est, ref)
    assert est.loss_curve_ == ref.loss_curve_
    assert (est.n_iter_, est.t_) == (ref.n_iter_, ref.t_)
    assert est.validation_scores_ == ref.validation_scores_


@needs_callbacks
@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_stop_requested_after_an_epoch(solver, early_stopping, clf_data):
    """on_fit_task_end returning True ends training after that epoch: the model
    of a fit with that max_iter, and no ConvergenceWarning (an error here)."""
    X, y = clf_data
    kw = dict(SMALL, solver=solver, max_iter=50, early_stopping=early_stopping)
    kw.update(learning_rate_init=0.01, n_iter_no_change=50)
    cb = Recorder(stop_after=3)
    est = MLPClassifier(**kw).set_callbacks(cb).fit(X, y)
    assert est.n_iter_ == 4 and len(est.loss_curve_) == 4
    assert len(cb.subtasks("end", "epoch")) == 4
    assert cb.count("teardown") == 1 and cb.records[-2][2].task_name == "fit"
    ref = quiet_fit(MLPClassifier(**dict(kw, max_iter=4)), X, y)
    assert_same_weights(est, ref)
    assert est.loss_curve_ == ref.loss_curve_
    assert est.t_ == ref.t_ and est._no_improvement_count == ref._no_improvement_count
    if early_stopping:
        assert est.validation_scores_ == ref.validation_scores_
        assert est.best_validation_score_ == ref.best_validation_score_
    else:
        assert est.best_loss_ == ref.best_loss_
    # a warm start continues from there as from the reference fit
    est.set_params(warm_start=True, max_iter=3).set_callbacks()
    ref.set_params(warm_start=True, max_iter=3)
    assert_same_weights(quiet_fit(est, X, y), quiet_fit(ref, X, y))


@needs_callbacks
def test_diverged_epoch_has_no_fitted_estimator(reg_data):
    """With early stopping a diverged epoch ends training with a warning; its
    task ends with fitted_estimator=None (no finite model to evaluate), so a
    ScoringMonitor skips it instead of failing the fit on NaN predictions."""
    from sklearn.callback import ScoringMonitor

    X, y = reg_data
    kw = dict(hidden_layer_sizes=(10,), activation="identity", solver="sgd")
    kw.update(learning_rate_init=1.0, max_iter=8, early_stopping=True)
    cb, monitor = Recorder(), ScoringMonitor(scoring="r2")
    est = MLPRegressor(**kw, random_state=0).set_callbacks(cb, monitor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X * 1e3, y * 1e3)
    ends = cb.subtasks("end", "epoch")
    assert len(ends) == est.n_iter_ > 1
    assert not np.isfinite(est.loss_curve_[-1])
    assert ends[-1][3] is None
    assert all(r[3] is not None for r in ends[:-1])
    assert cb.count("teardown") == 1
    paths = [r["task_id_path"] for r in monitor.get_logs().data]
    assert paths == [(0,)] + [(0, i) for i in range(est.n_iter_ - 1)]


# ------------------------------------------------------------------ lbfgs
@needs_callbacks
@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
def test_one_task_per_lbfgs_iteration(Est, clf_data, reg_data):
    X, y = clf_data if Est is MLPClassifier else reg_data
    kw = dict(SMALL, solver="lbfgs", max_iter=15)
    cb = Recorder()
    est = quiet_fit(Est(**kw).set_callbacks(cb), X, y)
    n = est.n_iter_
    # as LogisticRegression: one task per iteration, plus an empty one begun
    # after the last iteration
    root = cb.records[0][2]
    assert root.max_subtasks == kw["max_iter"] + 1
    begins = cb.subtasks("begin", "lbfgs-iter")
    ends = cb.subtasks("end", "lbfgs-iter")
    assert [r[2].task_id for r in begins] == list(range(n + 1))
    assert [r[2] for r in ends] == [r[2] for r in begins]
    assert cb.count("begin") == cb.count("end") == n + 2
    assert ends[-1][3] is None  # the empty task
    for i in (0, n // 2, n - 1):
        ref = quiet_fit(clone(est).set_callbacks().set_params(max_iter=i + 1), X, y)
        assert ends[i][3].n_iter_ == i + 1
        assert_same_weights(ends[i][3], ref)
        assert ends[i][3].loss_ == ref.loss_
    assert_same_weights(ends[n - 1][3], est)
    assert_same_weights(quiet_fit(clone(est).set_callbacks(), X, y), est)


@needs_callbacks
def test_stop_requested_after_an_lbfgs_iteration(clf_data):
    X, y = clf_data
    kw = dict(SMALL, solver="lbfgs", max_iter=100)
    cb = Recorder(stop_after=4)
    est = MLPClassifier(**kw).set_callbacks(cb).fit(X, y)  # no ConvergenceWarning
    assert est.n_iter_ == 5
    ends = cb.subtasks("end", "lbfgs-iter")
    assert len(ends) == 5  # no empty task after a stop
    ref = quiet_fit(MLPClassifier(**dict(kw, max_iter=5)), X, y)
    assert_same_weights(est, ref)
    assert est.loss_ == ref.loss_


# ------------------------------------------------------------- partial_fit
@needs_callbacks
def test_partial_fit_is_one_root_task(clf_data):
    """As StandardScaler.partial_fit: one leaf root task per call."""
    X, y = clf_data
    cb = Recorder()
    est = MLPClassifier(**SMALL).set_callbacks(cb)
    est.partial_fit(X, y, classes=[0, 1])
    est.partial_fit(X, y)
    assert [r[0] for r in cb.records] == ["setup", "begin", "end", "teardown"] * 2
    for kind, _, ctx, fitted in cb.records:
        assert (ctx.task_name, ctx.parent, ctx.max_subtasks) == ("fit", None, 0)
    assert cb.records[2][3].t_ == len(y) and cb.records[6][3].t_ == 2 * len(y)
    assert_same_weights(cb.records[6][3], est)
    ref = MLPClassifier(**SMALL).partial_fit(X, y, classes=[0, 1]).partial_fit(X, y)
    assert_same_weights(est, ref)
    assert_no_callback_leftovers(est)


# ------------------------------------------------------- ScoringMonitor
@needs_callbacks
@pytest.mark.parametrize("weighted", [False, True])
def test_scoring_monitor_logs_the_scores_of_each_epoch(weighted, clf_data):
    from sklearn.callback import ScoringMonitor

    X, y = clf_data
    sw = np.linspace(0.5, 2.0, len(y)) if weighted else None
    kw = dict(SMALL, max_iter=6, learning_rate_init=0.01)
    monitor = ScoringMonitor(scoring=["accuracy", "neg_log_loss"])
    est = quiet_fit(MLPClassifier(**kw).set_callbacks(monitor), X, y, sample_weight=sw)
    rows = monitor.get_logs().data
    assert [r["task_id_path"] for r in rows] == [(0,)] + [(0, i) for i in range(6)]
    assert [r["task_name"] for r in rows] == ["fit"] + ["epoch"] * 6
    assert {r["estimator_name"] for r in rows} == {"MLPClassifier"}
    models = [est] + [
        quiet_fit(MLPClassifier(**dict(kw, max_iter=i + 1)), X, y, sample_weight=sw)
        for i in range(6)
    ]
    for row, model in zip(rows, models):
        expected = accuracy_score(y, model.predict(X), sample_weight=sw)
        assert row["accuracy"] == expected
        loss = log_loss(y, model.predict_proba(X), sample_weight=sw)
        assert row["neg_log_loss"] == pytest.approx(-loss, rel=1e-12)


@needs_callbacks
def test_scoring_monitor_with_feature_names(reg_data):
    """X and y reach the scorer as passed to fit: a DataFrame keeps its
    feature names (a feature-name warning would fail the test)."""
    pd = pytest.importorskip("pandas")
    from sklearn.callback import ScoringMonitor

    X, y = reg_data
    X = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    monitor = ScoringMonitor(scoring="r2")
    est = quiet_fit(MLPRegressor(**SMALL, max_iter=3).set_callbacks(monitor), X, y)
    log = monitor.get_logs().data_as_pandas
    assert len(log) == 4
    assert log["r2"].iloc[0] == r2_score(y, est.predict(X))


# ----------------------------------------------------------- ProgressBar
def progress_records(fit):
    """The root bar's progress after each task end, during ``fit()``."""
    from sklearn.callback._progressbar import RichProgressMonitor

    records = []
    original = RichProgressMonitor._on_task_end

    def recording(self, task_info):
        original(self, task_info)
        records.append(self.root_rich_task.progress)

    with mock.patch.object(RichProgressMonitor, "_on_task_end", recording):
        fit()
    return records


@needs_callbacks
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_progress_bar(solver, clf_data, capsys):
    pytest.importorskip("rich")
    from sklearn.callback import ProgressBar

    X, y = clf_data
    est = MLPClassifier(**SMALL, solver=solver, max_iter=5).set_callbacks(ProgressBar())
    records = progress_records(lambda: quiet_fit(est, X, y))
    out = capsys.readouterr().out
    assert re.search(r"MLPClassifier - fit", out)
    assert re.search(r"100%", out) and not re.search(r"\b[0-9]{1,2}%", out)
    # one step per epoch (iteration) of max_subtasks, then done
    total = 5 if solver == "adam" else 6
    n = est.n_iter_ + (solver == "lbfgs")
    expected = [min(1.0, (i + 1) / total) for i in range(n)] + [1.0]
    np.testing.assert_allclose(records, expected)


@needs_callbacks
def test_progress_bar_stops_early(clf_data, capsys):
    """A fit that converges before max_iter still ends at 100%."""
    pytest.importorskip("rich")
    from sklearn.callback import ProgressBar

    X, y = clf_data
    kw = dict(SMALL, max_iter=200, tol=0.5, n_iter_no_change=2)
    est = MLPClassifier(**kw).set_callbacks(ProgressBar())
    records = progress_records(lambda: est.fit(X, y))
    assert est.n_iter_ < 200
    assert len(records) == est.n_iter_ + 1 and records[-1] == 1.0
    assert re.search(r"100%", capsys.readouterr().out)


# --------------------------------------------------------- meta-estimators
@needs_callbacks
def test_pipeline_set_callbacks(clf_data):
    """An auto-propagated callback set on the Pipeline reaches the MLP: its
    root task merges with the Pipeline's final-step task, then its epochs."""
    X, y = clf_data
    cb = AutoRecorder()
    mlp = MLPClassifier(**SMALL, max_iter=3)
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", mlp)]).set_callbacks(cb)
    quiet_fit(pipe, X, y)
    assert cb.count("setup") == cb.count("teardown") == 1  # the Pipeline's
    # Pipeline + scaler step + MLP (merged with the final step) + 3 epochs
    assert cb.count("begin") == cb.count("end") == 1 + 1 + 1 + 3
    epochs = cb.subtasks("end", "epoch")
    assert [r[1] for r in epochs] == [mlp] * 3
    root = epochs[0][2].parent
    assert root.estimator_name == "MLPClassifier"
    assert (root.source_estimator_name, root.source_task_name) == (
        "Pipeline",
        "fit-final-estimator",
    )
    assert root.parent.estimator_name == "Pipeline" and root.task_id == 1
    Xt = StandardScaler().fit_transform(X)
    assert_same_weights(epochs[-1][3], mlp)
    np.testing.assert_array_equal(epochs[-1][3].predict(Xt), pipe.predict(X))
    # the propagated callbacks and context are gone from the step
    assert not hasattr(mlp, "_skl_callbacks")
    assert_no_callback_leftovers(mlp)

    # a callback set on the step itself is its own: the MLP sets it up
    cb = Recorder()
    mlp = MLPClassifier(**SMALL, max_iter=3).set_callbacks(cb)
    quiet_fit(Pipeline([("scale", StandardScaler()), ("mlp", mlp)]), X, y)
    assert cb.count("setup") == cb.count("teardown") == 1
    assert cb.count("begin") == cb.count("end") == 1 + 3
    assert mlp._skl_callbacks == [cb]


@needs_callbacks
def test_pipeline_progress_bar(clf_data, capsys):
    """ProgressBar on a Pipeline: a bar for the Pipeline and one for the MLP
    (auto-propagated, max_propagation_depth=1), both completed."""
    pytest.importorskip("rich")
    from sklearn.callback import ProgressBar

    X, y = clf_data
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", MLPClassifier(**SMALL))])
    quiet_fit(pipe.set_params(mlp__max_iter=3).set_callbacks(ProgressBar()), X, y)
    out = capsys.readouterr().out
    assert re.search(r"Pipeline - fit", out)
    assert re.search(r"Pipeline - fit-final-estimator \| MLPClassifier - fit", out)
    assert re.search(r"100%", out) and not re.search(r"\b[0-9]{1,2}%", out)
    assert not hasattr(pipe.named_steps["mlp"], "_skl_callbacks")


@needs_callbacks
def test_grid_search_set_callbacks(reg_data):
    X, y = reg_data
    cb = AutoRecorder()
    search = GridSearchCV(
        MLPRegressor(**SMALL, max_iter=3), {"alpha": [1e-4, 1e-2]}, cv=2
    ).set_callbacks(cb)
    quiet_fit(search, X, y)
    assert cb.count("setup") == cb.count("teardown") == 1
    # 2 candidates x 2 splits, then the refit: 3 epochs each
    epochs = cb.subtasks("end", "epoch")
    assert len(epochs) == 5 * 3
    assert all(r[3] is not None for r in epochs)
    assert len({id(r[1]) for r in epochs}) == 5  # five clones
    assert_same_weights(epochs[-1][3], search.best_estimator_)
    assert not hasattr(search.best_estimator_, "_skl_callbacks")


# -------------------------------------------------------------- rollback
@needs_callbacks
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_failed_fit_rolls_back_and_tears_down(solver, clf_data):
    """A fit that fails (here a callback raising after an epoch) leaves the
    estimator as it was; the callbacks are the same objects (never copied),
    torn down once, and no callback bookkeeping is left behind."""
    X, y = clf_data
    cb = Recorder()
    est = MLPClassifier(**SMALL, solver=solver, max_iter=5).set_callbacks(cb)
    quiet_fit(est, X, y)
    before = dict(est.__dict__)
    coefs = [c.copy() for c in est.coefs_]

    cb.fail_after = 1
    cb.records.clear()
    with pytest.raises(RuntimeError, match="callback failed"):
        quiet_fit(est.set_params(warm_start=True), X, y)
    assert cb.count("setup") == cb.count("teardown") == 1
    assert est._skl_callbacks is before["_skl_callbacks"]
    assert est._skl_callbacks[0] is cb
    assert_no_callback_leftovers(est)
    assert set(est.__dict__) == set(before)
    for c0, c in zip(coefs, est.coefs_):
        np.testing.assert_array_equal(c0, c)
    assert est.n_iter_ == before["n_iter_"]

    # an unfitted estimator stays unfitted, also when the input is bad
    fresh = MLPClassifier(**SMALL, solver=solver).set_callbacks(cb)
    for bad in (X, X[:, :0]):
        cb.records.clear()
        with pytest.raises((RuntimeError, ValueError)):
            quiet_fit(fresh, bad, y)
        assert cb.count("setup") == cb.count("teardown") == 1
        assert set(fresh.__dict__) == set(MLPClassifier().__dict__) | {"_skl_callbacks"}

    # the rollback's snapshot copies no callback
    cb.fail_after = None
    with mock.patch("copy.deepcopy", wraps=__import__("copy").deepcopy) as deepcopy:
        quiet_fit(est, X, y)
    copied = [call.args[0] for call in deepcopy.call_args_list]
    assert copied  # the snapshot's deep copies went through the mock
    assert not [a for a in copied if a is est._skl_callbacks or a is cb]


def test_fit_without_callbacks_leaves_nothing(clf_data):
    X, y = clf_data
    for solver in ("adam", "lbfgs"):
        est = quiet_fit(MLPClassifier(**SMALL, solver=solver, max_iter=3), X, y)
        assert not [k for k in est.__dict__ if callbacks.is_callback_attr(k)]
        assert callbacks.hooks_of(est) is callbacks.NO_HOOKS
    est = MLPClassifier(**SMALL).partial_fit(X, y, classes=[0, 1])
    assert not [k for k in est.__dict__ if callbacks.is_callback_attr(k)]
