"""verbose: scikit-learn's lines at 1, a tqdm bar at 2, a clear warning without
tqdm."""

import re
import sys
import warnings

import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkClassifier

from fastmlp import MLPClassifier

NUMBER = re.compile(r"-?\d+\.\d+")


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=200, n_features=8, random_state=0)


def fit_output(est, X, y, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    return capsys.readouterr()


@pytest.mark.parametrize("early_stopping", [False, True])
def test_verbose_prints_scikit_learns_lines(data, capsys, early_stopping):
    X, y = data
    kw = dict(
        hidden_layer_sizes=(8,),
        max_iter=200,
        tol=1e-2,
        early_stopping=early_stopping,
        n_iter_no_change=3,
        learning_rate_init=0.05,
        random_state=0,
        verbose=True,
    )
    ours = fit_output(MLPClassifier(**kw), X, y, capsys).out.splitlines()
    theirs = fit_output(SkClassifier(**kw), X, y, capsys).out.splitlines()
    assert len(ours) == len(theirs) > 3
    for a, b in zip(ours, theirs):
        # Same words; numbers equal to the printed precision (models match to ~1e-12).
        assert NUMBER.sub("#", a) == NUMBER.sub("#", b)
        for x, z in zip(NUMBER.findall(a), NUMBER.findall(b)):
            assert float(x) == pytest.approx(float(z), abs=2e-6)
    assert any("Stopping." in line for line in ours)


def test_verbose_2_shows_a_progress_bar(data, capsys):
    pytest.importorskip("tqdm")
    X, y = data
    est = MLPClassifier(
        hidden_layer_sizes=(8,),
        max_iter=300,
        tol=1e-2,
        learning_rate_init=0.05,
        n_iter_no_change=3,
        random_state=0,
        verbose=2,
    )
    captured = fit_output(est, X, y, capsys)
    assert "Iteration" not in captured.out
    # The stopping message is still printed (through the bar), on stdout.
    assert "Training loss did not improve" in captured.out
    bar = captured.err.replace("\r", "\n").splitlines()
    last = [line for line in bar if "epoch" in line][-1]
    assert f"{est.n_iter_}/300" in last
    assert f"loss={est.loss_:.6g}" in last


def test_verbose_2_shows_the_validation_score(data, capsys):
    pytest.importorskip("tqdm")
    X, y = data
    est = MLPClassifier(
        hidden_layer_sizes=(8,),
        max_iter=5,
        early_stopping=True,
        random_state=0,
        verbose=2,
    )
    err = fit_output(est, X, y, capsys).err
    assert f"validation score={est.validation_scores_[-1]:.6g}" in err


def test_verbose_2_without_tqdm_warns_and_prints_lines(data, capsys, monkeypatch):
    X, y = data
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm fails
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    est = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0, verbose=2)
    with pytest.warns(UserWarning, match=r"needs tqdm \(pip install tqdm"):
        out = fit_output(est, X, y, capsys).out
    assert out.splitlines()[0] == "Iteration 1, loss = %.8f" % est.loss_curve_[0]
    assert len(out.splitlines()) == 3


def test_partial_fit_verbose_2_prints_a_line(data, capsys):
    X, y = data
    est = MLPClassifier(hidden_layer_sizes=(4,), random_state=0, verbose=2)
    est.partial_fit(X, y, classes=[0, 1])
    assert capsys.readouterr().out.startswith("Iteration 1, loss = ")
