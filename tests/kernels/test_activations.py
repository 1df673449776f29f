import numpy as np
import pytest
from numpy.testing import assert_allclose

from fastmlp._kernels.activations import (
    ACT_EXP,
    ACT_IDENTITY,
    ACT_LOGISTIC,
    ACT_RELU,
    ACT_SOFTMAX,
    ACT_TANH,
    activation_backward,
    bias_activation_forward,
)
from tests import reference
from tests.conftest import DTYPES, TOL

FORWARD_CODES = [ACT_IDENTITY, ACT_LOGISTIC, ACT_TANH, ACT_RELU, ACT_SOFTMAX, ACT_EXP]
HIDDEN_CODES = [ACT_IDENTITY, ACT_LOGISTIC, ACT_TANH, ACT_RELU]
SHAPES = [(1, 1), (37, 13), (257, 65)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("code", FORWARD_CODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_bias_activation_forward_matches_reference(rng, dtype, code, shape):
    U = (3 * rng.standard_normal(shape)).astype(dtype)
    b = rng.standard_normal(shape[1]).astype(dtype)
    got = U.copy()
    bias_activation_forward(got, b, code)
    expected = reference.activation((U + b).astype(np.float64), code)
    assert got.dtype == dtype
    assert_allclose(got, expected, **TOL[dtype])


def test_softmax_is_stable_for_large_inputs():
    U = np.array([[1000.0, 1001.0, -1000.0]])
    bias_activation_forward(U, np.zeros(3), ACT_SOFTMAX)
    assert np.isfinite(U).all()
    assert_allclose(U.sum(), 1.0, rtol=1e-15)
    assert_allclose(U[0, :2], [1 / (1 + np.e), np.e / (1 + np.e)], rtol=1e-14)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("code", HIDDEN_CODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_backward_matches_reference(rng, dtype, code, shape):
    A = reference.activation(rng.standard_normal(shape), code).astype(dtype)
    dA = rng.standard_normal(shape).astype(dtype)
    got = dA.copy()
    activation_backward(got, A, code)
    expected = dA.astype(np.float64) * reference.activation_derivative(
        A.astype(np.float64), code
    )
    assert_allclose(got, expected, **TOL[dtype])


@pytest.mark.parametrize("code", HIDDEN_CODES)
def test_derivative_from_output_matches_finite_difference(rng, code):
    """f'(U) computed from A = f(U) agrees with a central difference of f."""
    U = rng.uniform(-2, 2, (5, 7))
    U[np.abs(U) < 1e-3] = 0.5  # keep away from relu's kink
    A = U.copy()
    bias_activation_forward(A, np.zeros(7), code)
    d = np.ones_like(U)
    activation_backward(d, A, code)
    h = 1e-6
    Up, Um = U + h, U - h
    bias_activation_forward(Up, np.zeros(7), code)
    bias_activation_forward(Um, np.zeros(7), code)
    assert_allclose(d, (Up - Um) / (2 * h), rtol=1e-6, atol=1e-8)
