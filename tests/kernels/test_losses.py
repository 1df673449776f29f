import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.neural_network._base import LOSS_FUNCTIONS

from fastmlp._kernels.activations import ACT_EXP, ACT_LOGISTIC, ACT_SOFTMAX
from fastmlp._kernels.losses import LOSS_CODES, loss_forward_backward
from tests import reference
from tests.conftest import DTYPES, TOL

# loss name -> output activation that makes P - Y its gradient
CASES = {
    "squared_error": None,
    "log_loss": ACT_SOFTMAX,
    "binary_log_loss": ACT_LOGISTIC,
    "poisson": ACT_EXP,
}


def make_problem(rng, loss, n, k, dtype):
    U = rng.standard_normal((n, k))
    P = U if CASES[loss] is None else reference.activation(U, CASES[loss])
    if loss == "log_loss":
        Y = np.eye(k)[rng.integers(0, k, n)]
    elif loss == "binary_log_loss":
        Y = rng.integers(0, 2, (n, k)).astype(float)
    elif loss == "poisson":
        Y = rng.poisson(2.0, (n, k)).astype(float)
    else:
        Y = rng.standard_normal((n, k))
    sw = rng.uniform(0.5, 2.0, n)
    return P.astype(dtype), Y.astype(dtype), sw.astype(dtype)


@pytest.mark.parametrize("shape", [(1, 1), (37, 3), (257, 10)])
@pytest.mark.parametrize("loss", list(CASES))
@pytest.mark.parametrize("dtype", DTYPES)
def test_loss_and_delta_match_reference(rng, dtype, loss, shape):
    n, k = shape
    if loss == "log_loss" and k == 1:
        k = 2
    P, Y, sw = make_problem(rng, loss, n, k, dtype)
    dU = np.empty_like(P)
    total = loss_forward_backward(dU, P, Y, sw, LOSS_CODES[loss], 0.0)
    expected = np.dot(sw.astype(float), reference.row_losses(P, Y, LOSS_CODES[loss]))
    assert_allclose(total, expected, rtol=1e-12 if dtype == np.float64 else 1e-5)
    assert_allclose(dU, (P - Y) * sw[:, None], **TOL[dtype])


@pytest.mark.parametrize("loss", list(CASES))
def test_loss_matches_scikit_learn(rng, loss):
    """The weighted mean of our per-row losses is scikit-learn's batch loss."""
    P, Y, sw = make_problem(rng, loss, 50, 4, np.float64)
    dU = np.empty_like(P)
    ours = loss_forward_backward(dU, P, Y, sw, LOSS_CODES[loss], 0.0) / sw.sum()
    assert_allclose(ours, LOSS_FUNCTIONS[loss](Y, P, sw), rtol=1e-12)


def test_log_loss_clips_probabilities(rng):
    P = np.array([[0.0, 1.0]])
    Y = np.array([[1.0, 0.0]])
    dU = np.empty_like(P)
    got = loss_forward_backward(dU, P, Y, np.ones(1), LOSS_CODES["log_loss"], 0.0)
    assert np.isfinite(got)
    assert_allclose(got, -np.log(np.finfo(np.float64).eps))


REGRESSION = {"absolute_error": 0.0, "huber": 0.6, "quantile": 0.25}


@pytest.mark.parametrize("shape", [(1, 1), (37, 3), (257, 10)])
@pytest.mark.parametrize("loss", list(REGRESSION))
@pytest.mark.parametrize("dtype", DTYPES)
def test_regression_loss_and_delta_match_reference(rng, dtype, loss, shape):
    """Mean over outputs of the elementwise loss, and its exact gradient."""
    n, k = shape
    P = rng.standard_normal((n, k)).astype(dtype)
    Y = rng.standard_normal((n, k)).astype(dtype)
    Y[0, 0] = P[0, 0]  # a kink: r = 0 has gradient 0
    sw = rng.uniform(0.5, 2.0, n).astype(dtype)
    dU = np.empty_like(P)
    param = REGRESSION[loss]
    total = loss_forward_backward(dU, P, Y, sw, LOSS_CODES[loss], param)
    R = P.astype(float) - Y.astype(float)
    value, grad = reference.elementwise_loss(R, LOSS_CODES[loss], param)
    expected = np.dot(sw.astype(float), value.mean(axis=1))
    assert_allclose(total, expected, rtol=1e-12 if dtype == np.float64 else 1e-6)
    assert_allclose(dU, grad * sw[:, None] / k, **TOL[dtype])
    assert dU[0, 0] == 0


def test_regression_losses_match_scikit_learn_metrics(rng):
    """Unweighted means: mean_absolute_error, mean_pinball_loss, and torch's
    Huber loss written out (sklearn has no Huber metric)."""
    from sklearn.metrics import mean_absolute_error, mean_pinball_loss

    P, Y = rng.standard_normal((60, 3)), rng.standard_normal((60, 3))
    sw = np.ones(60)
    dU = np.empty_like(P)
    mae = loss_forward_backward(dU, P, Y, sw, LOSS_CODES["absolute_error"], 0.0)
    assert_allclose(mae / 60, mean_absolute_error(Y, P), rtol=1e-12)
    pin = loss_forward_backward(dU, P, Y, sw, LOSS_CODES["quantile"], 0.3)
    assert_allclose(pin / 60, mean_pinball_loss(Y, P, alpha=0.3), rtol=1e-12)
    r = np.abs(P - Y)
    huber = np.where(r <= 0.5, 0.5 * r**2, 0.5 * (r - 0.25)).mean()
    got = loss_forward_backward(dU, P, Y, sw, LOSS_CODES["huber"], 0.5)
    assert_allclose(got / 60, huber, rtol=1e-12)
