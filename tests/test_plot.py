"""fastmlp.plot.loss_curve draws the fitted model's own loss_curve_ and
validation_scores_."""

import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from fastmlp import MLPClassifier
from fastmlp.plot import loss_curve


@pytest.fixture
def plt():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def fit(**kw):
    X, y = make_classification(n_samples=120, n_features=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier((6,), max_iter=12, random_state=0, **kw).fit(X, y)


def test_loss_curve_draws_the_loss_per_epoch(plt):
    est = fit()
    ax = loss_curve(est)
    (line,) = ax.get_lines()
    assert_array_equal(line.get_xdata(), np.arange(1, est.n_iter_ + 1))
    assert_array_equal(line.get_ydata(), est.loss_curve_)
    assert ax.get_xlabel() == "epoch" and not hasattr(ax, "right_ax")


def test_loss_curve_adds_the_validation_score(plt):
    est = fit(early_stopping=True)
    _, given = plt.subplots()
    ax = loss_curve(est, ax=given)
    assert ax is given
    (score,) = ax.right_ax.get_lines()
    assert_array_equal(score.get_ydata(), est.validation_scores_)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "training loss",
        "validation score",
    ]


def test_loss_curve_needs_a_stochastic_solver(plt):
    est = fit(solver="lbfgs")
    with pytest.raises(ValueError, match="only the 'sgd' and 'adam' solvers"):
        loss_curve(est)


def test_loss_curve_without_matplotlib(monkeypatch):
    est = fit()
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="fastmlp.plot needs matplotlib"):
        loss_curve(est)
