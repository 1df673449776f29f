import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from fastmlp._kernels.activations import (
    ACT_ELU,
    ACT_EXP,
    ACT_GELU,
    ACT_IDENTITY,
    ACT_LEAKY_RELU,
    ACT_LOGISTIC,
    ACT_RELU,
    ACT_SILU,
    ACT_SOFTMAX,
    ACT_SOFTPLUS,
    ACT_TANH,
    SAVED_DERIVATIVE,
    activation_backward,
    bias_activation_forward,
)
from fastmlp._kernels.extended import X_BACKWARD, extended_forward
from fastmlp._kernels.reduce import column_sum
from tests import reference
from tests.conftest import DTYPES, TOL

FORWARD_CODES = [ACT_IDENTITY, ACT_LOGISTIC, ACT_TANH, ACT_RELU, ACT_SOFTMAX, ACT_EXP]
HIDDEN_CODES = [ACT_IDENTITY, ACT_LOGISTIC, ACT_TANH, ACT_RELU, ACT_LEAKY_RELU]
SHAPES = [(1, 1), (37, 13), (257, 65)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("code", FORWARD_CODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_bias_activation_forward_matches_reference(rng, dtype, code, shape):
    U = (3 * rng.standard_normal(shape)).astype(dtype)
    b = rng.standard_normal(shape[1]).astype(dtype)
    got = U.copy()
    bias_activation_forward(got, b, code, 0, shape[1])
    expected = reference.activation((U + b).astype(np.float64), code)
    assert got.dtype == dtype
    assert_allclose(got, expected, **TOL[dtype])


def test_softmax_is_stable_for_large_inputs():
    U = np.array([[1000.0, 1001.0, -1000.0]])
    bias_activation_forward(U, np.zeros(3), ACT_SOFTMAX, 0, 3)
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
    activation_backward(got, A, code, 0, shape[1])
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
    bias_activation_forward(A, np.zeros(7), code, 0, 7)
    d = np.ones_like(U)
    activation_backward(d, A, code, 0, 7)
    h = 1e-6
    Up, Um = U + h, U - h
    bias_activation_forward(Up, np.zeros(7), code, 0, 7)
    bias_activation_forward(Um, np.zeros(7), code, 0, 7)
    assert_allclose(d, (Up - Um) / (2 * h), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("code", [c for c in FORWARD_CODES if c != ACT_SOFTMAX])
@pytest.mark.parametrize("dtype", DTYPES)
def test_column_ranges_equal_whole_rows_bit_for_bit(rng, dtype, code):
    """Forward (bias + activation), the derivative and the bias gradient's
    column sums on panel-aligned column ranges equal the whole-row calls
    exactly (the training loop's layer phases split hidden layers into such
    tiles; softmax, which needs whole rows, runs on the whole chunk)."""
    n, m = 37, 100
    nr = 128 // np.dtype(dtype).itemsize
    U = (3 * rng.standard_normal((n, m))).astype(dtype)
    b = rng.standard_normal(m).astype(dtype)
    whole = U.copy()
    bias_activation_forward(whole, b, code, 0, m)
    tiled = U.copy()
    for j0 in range(0, m, nr):
        bias_activation_forward(tiled, b, code, j0, min(j0 + nr, m))
    assert_array_equal(tiled, whole)
    if code in HIDDEN_CODES:
        dA = rng.standard_normal((n, m)).astype(dtype)
        whole_d, tiled_d = dA.copy(), dA.copy()
        activation_backward(whole_d, whole, code, 0, m)
        for j0 in range(0, m, nr):
            activation_backward(tiled_d, whole, code, j0, min(j0 + nr, m))
        assert_array_equal(tiled_d, whole_d)
    sums_whole = np.empty(m, dtype)
    column_sum(sums_whole, whole, 0, m)
    assert_allclose(sums_whole, whole.astype(np.float64).sum(0), rtol=1e-5, atol=1e-5)
    sums_tiled = np.full(m, np.nan, dtype)
    for j0 in range(0, m, nr):
        column_sum(sums_tiled, whole, j0, min(j0 + nr, m))
    assert_array_equal(sums_tiled, sums_whole)


NEW_CODES = [ACT_LEAKY_RELU, ACT_ELU, ACT_GELU, ACT_SILU, ACT_SOFTPLUS]


def bias_activation_derivative(Z, D, b, code, j0, j1):
    """Training's forward with the derivative saved, no dropout (extended.py)."""
    rows = np.zeros(Z.shape[0], dtype=np.int64)
    extended_forward(Z, D, b, rows, code, j0, j1, 1, 0, 0, 0)


def prediction_forward(Z, b, code, j0, j1):
    """Prediction's forward: f alone (extended.py for its activations)."""
    if code in SAVED_DERIVATIVE:
        rows = np.zeros(Z.shape[0], dtype=np.int64)
        extended_forward(Z, Z, b, rows, code, j0, j1, 0, -1, 0, 0)
    else:
        bias_activation_forward(Z, b, code, j0, j1)


ALL_HIDDEN = HIDDEN_CODES + [ACT_ELU, ACT_GELU, ACT_SILU, ACT_SOFTPLUS]


def ulps(got, expected, dtype):
    """|got - expected| in units of the dtype's epsilon times |expected|
    (floored at 1, so values near 0 count in absolute terms)."""
    scale = np.maximum(np.abs(expected), 1.0)
    return np.abs(got.astype(np.float64) - expected) / scale / np.finfo(dtype).eps


def wide_inputs(rng, dtype):
    """Pre-activations over the range that matters, the tails included."""
    lim = 30.0 if dtype == np.float64 else 12.0
    U = np.concatenate([rng.uniform(-lim, lim, 3000), rng.uniform(-2, 2, 3000),
                        rng.uniform(-1e-5, 1e-5, 200), [0.0, -0.0]])  # fmt: skip
    return U.astype(dtype).reshape(-1, 2)


@pytest.mark.parametrize("code", NEW_CODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_new_activations_within_a_few_ulps_of_scipy(rng, dtype, code):
    """f and f' of fastmlp's activations against NumPy/SciPy in float64
    (reference.activation, reference.derivative_at), for prediction's forward
    and training's forward with the saved derivative."""
    U = wide_inputs(rng, dtype)
    b = np.zeros(2, dtype)
    expected = reference.activation(U.astype(np.float64), code)
    expected_d = reference.derivative_at(U.astype(np.float64), code)
    forward = U.copy()
    prediction_forward(forward, b, code, 0, 2)
    train, D = U.copy(), np.empty_like(U)
    bias_activation_derivative(train, D, b, code, 0, 2)
    # the same f in prediction and training, to the last bit or two (fastmath
    # may fold silu's u * s differently where s is also used for f')
    assert_allclose(train, forward, rtol=2 * np.finfo(dtype).eps, atol=0)
    assert ulps(forward, expected, dtype).max() <= 8
    assert ulps(D, expected_d, dtype).max() <= 8


@pytest.mark.parametrize("code", ALL_HIDDEN)
@pytest.mark.parametrize("dtype", DTYPES)
def test_saved_derivative_matches_reference_and_the_output_form(rng, dtype, code):
    """bias_activation_derivative's D is f'(U + b); for the activations with a
    derivative from the output, D equals activation_backward's factor exactly."""
    U = (2 * rng.standard_normal((37, 13))).astype(dtype)
    b = rng.standard_normal(13).astype(dtype)
    A, D = U.copy(), np.empty_like(U)
    bias_activation_derivative(A, D, b, code, 0, 13)
    assert_allclose(D, reference.derivative_at((U + b).astype(np.float64), code),
                    **TOL[dtype])  # fmt: skip
    g = rng.standard_normal(U.shape).astype(dtype)
    saved = g.copy()
    rows = np.zeros(37, dtype=np.int64)
    extended_forward(saved, D, b, rows, code, 0, 13, X_BACKWARD, 0, 0, 0)
    assert_array_equal(saved, g * D)
    if code not in SAVED_DERIVATIVE:
        from_output = g.copy()
        activation_backward(from_output, A, code, 0, 13)
        assert_allclose(from_output, saved, rtol=4 * np.finfo(dtype).eps)


@pytest.mark.parametrize("code", NEW_CODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_new_activations_column_ranges_equal_whole_rows(rng, dtype, code):
    n, m = 9, 100
    nr = 128 // np.dtype(dtype).itemsize
    U = (3 * rng.standard_normal((n, m))).astype(dtype)
    b = rng.standard_normal(m).astype(dtype)
    whole, whole_d = U.copy(), np.empty_like(U)
    bias_activation_derivative(whole, whole_d, b, code, 0, m)
    tiled, tiled_d = U.copy(), np.empty_like(U)
    for j0 in range(0, m, nr):
        bias_activation_derivative(tiled, tiled_d, b, code, j0, min(j0 + nr, m))
    assert_array_equal(tiled, whole)
    assert_array_equal(tiled_d, whole_d)
