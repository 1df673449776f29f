import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from fastmlp._kernels.activations import (
    ACT_EXP,
    ACT_IDENTITY,
    ACT_LOGISTIC,
    ACT_RELU,
    ACT_SOFTMAX,
    ACT_TANH,
)
from fastmlp._kernels.losses import LOSS_CODES
from fastmlp._kernels.network import forward_backward, predict_blocks
from fastmlp._params import ParamLayout
from fastmlp._solver import Workspace
from tests import reference
from tests.conftest import DTYPES

OUTPUTS = {  # loss -> output activation
    "squared_error": ACT_IDENTITY,
    "log_loss": ACT_SOFTMAX,
    "binary_log_loss": ACT_LOGISTIC,
    "poisson": ACT_EXP,
}


def random_net(rng, units, dtype, scale=1.0):
    """Weights ~ N(0, scale^2 / fan_in): pre-activations stay O(scale)."""
    coefs = [
        (scale / np.sqrt(a) * rng.standard_normal((a, b))).astype(dtype)
        for a, b in zip(units[:-1], units[1:])
    ]
    intercepts = [(scale * rng.standard_normal(b)).astype(dtype) for b in units[1:]]
    return coefs, intercepts


def random_targets(rng, loss, n, k, dtype):
    if loss == "log_loss":
        Y = np.eye(k)[rng.integers(0, k, n)]
    elif loss == "binary_log_loss":
        Y = rng.integers(0, 2, (n, k))
    elif loss == "poisson":
        Y = rng.poisson(1.0, (n, k))
    else:
        Y = rng.standard_normal((n, k))
    return Y.astype(dtype)


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize(
    "units", [(1, 1, 1), (13, 5, 3), (37, 13, 5, 4), (64, 129, 65, 10)]
)
@pytest.mark.parametrize("loss", list(OUTPUTS))
@pytest.mark.parametrize("act", [ACT_IDENTITY, ACT_LOGISTIC, ACT_TANH, ACT_RELU])
@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_backward_matches_reference(rng, dtype, act, loss, units, parallel):
    if loss == "log_loss" and units[-1] == 1:
        units = units[:-1] + (2,)  # softmax needs two or more outputs
    n_out = units[-1]
    n = 37
    coefs, intercepts = random_net(rng, units, dtype)
    X = rng.standard_normal((n, units[0])).astype(dtype)
    Y = random_targets(rng, loss, n, n_out, dtype)
    sw = rng.uniform(0.5, 2, n).astype(dtype)
    layout = ParamLayout(units)
    ws = Workspace(layout, n, units[0], n_out, dtype)
    theta = layout.pack(coefs, intercepts, dtype)
    got = forward_backward(
        ws.G[0],
        ws.acts[0],
        ws.deltas[0],
        ws.work[0],
        X,
        Y,
        sw,
        theta,
        ws.table,
        act,
        OUTPUTS[loss],
        LOSS_CODES[loss],
        parallel,
    )
    ref = reference.mlp_loss_grad(
        [c.astype(float) for c in coefs],
        [b.astype(float) for b in intercepts],
        X.astype(float),
        Y.astype(float),
        sw.astype(float),
        act,
        OUTPUTS[loss],
        LOSS_CODES[loss],
        0.0,
        dtype,
    )
    dW, db = layout.unpack(ws.G[0])
    assert_allclose(got, ref[0], rtol=1e-9 if dtype == np.float64 else 1e-4)
    for layer in range(len(coefs)):
        assert_close_scaled(dW[layer], ref[1][layer], dtype)
        assert_close_scaled(db[layer], ref[2][layer], dtype)


def assert_close_scaled(got, expected, dtype):
    """Elementwise check with an absolute floor set by the array's scale: float32
    sums of large terms cancel, so small entries carry the large ones' rounding."""
    scale = max(np.abs(expected).max(), 1.0)
    if dtype == np.float64:
        assert_allclose(got, expected, rtol=1e-9, atol=1e-12 * scale)
    else:
        assert_allclose(got, expected, rtol=1e-3, atol=2e-5 * scale)


@pytest.mark.parametrize("n_rows", [1, 7, 512, 1300])
@pytest.mark.parametrize("dtype", DTYPES)
def test_predict_blocks_matches_reference(rng, dtype, n_rows):
    """Blocked prediction equals one big forward pass, across block boundaries."""
    units = (20, 33, 3)
    coefs, intercepts = random_net(rng, units, dtype)
    X = rng.standard_normal((n_rows, 20)).astype(dtype)
    layout = ParamLayout(units)
    block = 256
    ws = Workspace(layout, block, 20, 3, dtype)
    out = np.empty((n_rows, 3), dtype=dtype)
    predict_blocks(
        out,
        ws.acts[0],
        ws.xb,
        ws.work[0],
        X,
        np.arange(n_rows),
        block,
        layout.pack(coefs, intercepts, dtype),
        ws.table,
        ACT_TANH,
        ACT_SOFTMAX,
        True,
    )
    H = X.astype(float)
    for layer, (W, b) in enumerate(zip(coefs, intercepts)):
        code = ACT_SOFTMAX if layer == 1 else ACT_TANH
        H = reference.activation(H @ W.astype(float) + b, code)
    tol = (
        dict(rtol=1e-10, atol=1e-12)
        if dtype == np.float64
        else dict(rtol=1e-4, atol=1e-6)
    )
    assert_allclose(out, H, **tol)


def test_forward_backward_bit_identical_serial_parallel(rng):
    units = (50, 70, 40, 10)
    coefs, intercepts = random_net(rng, units, np.float32)
    X = rng.standard_normal((130, 50)).astype(np.float32)
    Y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 130)]
    sw = np.ones(130, np.float32)
    layout = ParamLayout(units)
    theta = layout.pack(coefs, intercepts, np.float32)
    results = []
    for parallel in (False, True):
        ws = Workspace(layout, 130, 50, 10, np.float32)
        loss = forward_backward(
            ws.G[0],
            ws.acts[0],
            ws.deltas[0],
            ws.work[0],
            X,
            Y,
            sw,
            theta,
            ws.table,
            ACT_RELU,
            ACT_SOFTMAX,
            LOSS_CODES["log_loss"],
            parallel,
        )
        results.append((loss, ws.G[0].copy()))
    assert results[0][0] == results[1][0]
    assert_array_equal(results[0][1], results[1][1])
