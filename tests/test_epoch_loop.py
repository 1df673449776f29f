"""The compiled epoch loop: the shuffle against scikit-learn's, the validation
score against sklearn.metrics, and results that do not depend on how the epochs
are grouped into compiled calls."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.utils import shuffle as sk_shuffle

import fastmlp._solver as solver
from fastmlp import MLPClassifier
from fastmlp._jit import kernel
from fastmlp._kernels import epochs as E
from fastmlp._kernels.shuffle import legacy_shuffle, mt_next32


@kernel
def _shuffle_epochs(order, key, pos, n_epochs, out):
    """n_epochs compiled shuffles of order in place, each order kept in out;
    returns the generator's position after them."""
    for e in range(n_epochs):
        pos = legacy_shuffle(order, key, pos)
        for i in range(order.shape[0]):  # (kernels run without NRT: no array copies)
            out[e, i] = order[i]
    return pos


@kernel
def _words(key, pos, out):
    """out[:] = the next 32-bit outputs of the MT19937 state (key, pos)."""
    for k in range(out.shape[0]):
        out[k], pos = mt_next32(key, pos)
    return pos


@pytest.mark.parametrize("seed, skip", [(0, 0), (5, 1), (7, 623), (9, 624), (3, 1000)])
def test_compiled_mt19937_is_numpys(seed, skip):
    """The generator's words are RandomState's own 32-bit outputs, across
    several twists and from any position, and its state afterwards is the
    RandomState's."""
    rs = np.random.RandomState(seed)
    rs.randint(0, 2**32, size=skip, dtype=np.uint32)
    _, key, pos, *_ = rs.get_state(legacy=True)
    key = np.array(key, dtype=np.uint32)
    got = np.empty(2000, dtype=np.int64)
    pos = _words(key, pos, got)
    expected = rs.randint(0, 2**32, size=2000, dtype=np.uint32)
    assert_array_equal(got, expected.astype(np.int64))
    _, key_after, pos_after, *_ = rs.get_state(legacy=True)
    assert pos == pos_after
    assert_array_equal(key, key_after)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 150, 1437, 4097])
def test_compiled_shuffle_is_sklearn_shuffle_on_the_same_stream(n):
    """Epoch after epoch, the same cumulative order as scikit-learn's loop
    (sample_idx = shuffle(sample_idx, random_state=rs)), and the RandomState
    left where scikit-learn's is once the advanced state is stored back."""
    ours_rs, theirs_rs = np.random.RandomState(11), np.random.RandomState(11)
    state = solver.ShuffleState(ours_rs)
    out = np.empty((6, n), dtype=np.int64)
    state.store(_shuffle_epochs(np.arange(n), state.key, state.pos, 6, out))
    idx = np.arange(n)
    for e in range(6):
        idx = sk_shuffle(idx, random_state=theirs_rs)
        assert_array_equal(out[e], idx)
    assert ours_rs.random_sample() == theirs_rs.random_sample()


def test_random_state_after_fit_is_sklearns():
    """The estimator's RandomState continues exactly where scikit-learn's does
    (warm-start fits and partial_fit draw their shuffles from it)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    params = dict(hidden_layer_sizes=(6,), max_iter=7, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPClassifier(**params).fit(X, y)
        theirs = SkMLPClassifier(**params).fit(X, y)
    assert ours._random_state.random_sample() == theirs._random_state.random_sample()


def _weights(est):
    return [a.tobytes() for a in est.coefs_ + est.intercepts_]


@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(early_stopping=True, n_iter_no_change=3),
        dict(solver="sgd", learning_rate="adaptive", tol=0.05, n_iter_no_change=1),
        dict(solver="sgd", learning_rate="invscaling"),
        dict(shuffle=False),
    ],
    ids=["adam", "early_stopping", "adaptive", "invscaling", "no_shuffle"],
)
def test_results_do_not_depend_on_epochs_per_call(monkeypatch, params):
    """One epoch per compiled call and the most per call train the same bits
    and record the same curves, counters and learning rate."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((240, 6))
    y = (X[:, 0] - X[:, 2] > 0).astype(int)
    params = dict(hidden_layer_sizes=(8,), max_iter=40, random_state=0, **params)

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return MLPClassifier(**params).fit(X, y)

    runs = []
    monkeypatch.setattr(solver, "BLOCK_SECONDS", 0.0)  # one epoch per call
    runs.append(fit())
    monkeypatch.setattr(solver, "BLOCK_SECONDS", 1e9)  # all epochs in one call
    runs.append(fit())
    draws = [run._random_state.random_sample() for run in runs]
    assert draws[1] == draws[0]  # the stream left at the same place
    first = runs[0]
    for other in runs[1:]:
        assert _weights(other) == _weights(first)
        assert other.loss_curve_ == first.loss_curve_
        assert other.n_iter_ == first.n_iter_ and other.t_ == first.t_
        assert other._no_improvement_count == first._no_improvement_count
        assert other._optimizer.learning_rate == first._optimizer.learning_rate
        assert other.validation_scores_ == first.validation_scores_


def _score(P, Y, sw, code):
    return E.validation_score(P, Y, sw, code, 0, 0.0)


def test_validation_accuracy_matches_sklearn_decoding():
    rng = np.random.default_rng(2)
    n = 60
    sw = rng.uniform(0.5, 2.0, n)
    # multiclass: argmax, ties to the first, NaN rows to their first NaN
    P = rng.standard_normal((n, 4))
    P[3] = [0.2, 0.7, 0.7, 0.1]
    P[5] = [0.1, np.nan, 0.9, np.nan]
    labels = rng.integers(0, 4, n)
    Y = np.eye(4)[labels]
    pred = np.argmax(P, axis=1)  # numpy's own NaN rule
    for w in (None, sw):
        ones = np.ones(n) if w is None else w
        expected = accuracy_score(labels, pred, sample_weight=w)
        got = _score(P, Y, ones, E.SCORE_ACCURACY_ARGMAX)
        assert got == pytest.approx(expected, rel=1e-15, abs=0)
    # binary and multilabel: > 0.5, every label of a row
    P = rng.uniform(0, 1, (n, 3))
    P[0, 0] = 0.5  # not above the threshold
    Y = (rng.uniform(0, 1, (n, 3)) > 0.5).astype(float)
    expected = accuracy_score(Y.astype(int), (P > 0.5).astype(int), sample_weight=sw)
    assert _score(P, Y, sw, E.SCORE_ACCURACY_THRESHOLD) == pytest.approx(expected)
    expected = accuracy_score(Y[:, 0], (P[:, 0] > 0.5).astype(float))
    assert _score(P[:, :1], Y[:, :1], np.ones(n), E.SCORE_ACCURACY_THRESHOLD) == (
        pytest.approx(expected)
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_validation_r2_matches_r2_score(dtype):
    rng = np.random.default_rng(3)
    n = 80
    Y = rng.standard_normal((n, 3)).astype(dtype)
    P = (Y + 0.3 * rng.standard_normal((n, 3))).astype(dtype)
    sw = rng.uniform(0.5, 2.0, n).astype(dtype)
    for w in (None, sw):
        ones = np.ones(n, dtype) if w is None else w
        expected = r2_score(Y.astype(np.float64), P.astype(np.float64), sample_weight=w)
        got = _score(P, Y, ones, E.SCORE_R2)
        assert got == pytest.approx(expected, rel=1e-12)
    # a constant target (unweighted: its mean is exact): 0 unless predicted
    # exactly, then 1 (r2_score's force_finite conventions)
    Y[:, 2] = 1.5
    expected = r2_score(Y.astype(np.float64), P.astype(np.float64))
    assert _score(P, Y, np.ones(n, dtype), E.SCORE_R2) == pytest.approx(expected)
    P[:, 2] = 1.5
    expected = r2_score(Y.astype(np.float64), P.astype(np.float64))
    assert _score(P, Y, np.ones(n, dtype), E.SCORE_R2) == pytest.approx(expected)
    P[7, 1] = np.inf  # scikit-learn's estimator returns NaN for non-finite output
    assert np.isnan(_score(P, Y, np.ones(n, dtype), E.SCORE_R2))
