import numba
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from fastmlp import _solver
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
)
from fastmlp._kernels.losses import LOSS_CODES
from fastmlp._kernels.network import C_LOSS, C_OUT, N_CODES, forward_backward
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
NEW_LOSSES = {"absolute_error": 0.0, "huber": 0.7, "quantile": 0.2}  # loss -> param
HIDDEN = [ACT_IDENTITY, ACT_LOGISTIC, ACT_TANH, ACT_RELU, ACT_LEAKY_RELU, ACT_ELU,
          ACT_GELU, ACT_SILU, ACT_SOFTPLUS]  # fmt: skip


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


@pytest.mark.parametrize(
    "units", [(1, 1, 1), (13, 5, 3), (37, 13, 5, 4), (64, 129, 65, 10)]
)
@pytest.mark.parametrize("loss", list(OUTPUTS))
@pytest.mark.parametrize("act", HIDDEN)
@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_backward_matches_reference(rng, dtype, act, loss, units):
    check_forward_backward(rng, dtype, act, loss, units)


@pytest.mark.parametrize("units", [(1, 1, 1), (13, 5, 3), (37, 13, 5, 4)])
@pytest.mark.parametrize("loss", list(NEW_LOSSES))
@pytest.mark.parametrize("act", [ACT_RELU, ACT_GELU])
@pytest.mark.parametrize("dtype", DTYPES)
def test_regression_losses_match_reference(rng, dtype, act, loss, units):
    check_forward_backward(rng, dtype, act, loss, units)


@pytest.mark.parametrize("dropout", [None, (0.0, 0.0), (0.5, 0.0), (0.3, 0.6)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_per_layer_activations_and_dropout_match_reference(rng, dtype, dropout):
    """Each hidden layer its own activation, its own dropout rate: the kernel
    equals the NumPy network with the NumPy twin's masks (reference.py)."""
    check_forward_backward(rng, dtype, (ACT_SILU, ACT_TANH), "squared_error",
                           (9, 40, 17, 2), dropout)  # fmt: skip


def check_forward_backward(rng, dtype, act, loss, units, dropout=None):
    if loss == "log_loss" and units[-1] == 1:
        units = units[:-1] + (2,)  # softmax needs two or more outputs
    n_out = units[-1]
    n = 37
    n_hidden = len(units) - 2
    acts = [act] * n_hidden if np.ndim(act) == 0 else list(act)
    coefs, intercepts = random_net(rng, units, dtype)
    X = rng.standard_normal((n, units[0])).astype(dtype)
    Y = random_targets(rng, loss, n, n_out, dtype)
    sw = rng.uniform(0.5, 2, n).astype(dtype)
    layout = ParamLayout(units, acts, dropout)
    ws = Workspace(layout, n, units[0], n_out, dtype)
    theta = layout.pack(coefs, intercepts, dtype)
    out_code = OUTPUTS.get(loss, ACT_IDENTITY)
    param = NEW_LOSSES.get(loss, 0.0)
    rows = rng.permutation(1000)[:n].astype(np.int64)  # the rows' indices in X
    seed, seen = 12345, 3 * 1000
    got = forward_backward(
        ws.G[0], ws.acts[0], ws.deltas[0], ws.work[0], X, Y, sw, rows,
        reference.epoch_key(seed, seen), theta, ws.table, out_code, LOSS_CODES[loss], param,
    )  # fmt: skip
    masks = None
    if dropout is not None:
        masks = [
            reference.dropout_multipliers(seed, seen, layer, rows, units[layer + 1], p)
            if p > 0 else None
            for layer, p in enumerate(dropout)
        ]  # fmt: skip
    ref = reference.mlp_loss_grad(
        [c.astype(float) for c in coefs],
        [b.astype(float) for b in intercepts],
        X.astype(float),
        Y.astype(float),
        sw.astype(float),
        acts,
        out_code,
        LOSS_CODES[loss],
        0.0,
        dtype,
        param,
        masks,
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


def codes_for(out, loss="squared_error"):
    """The kernels' codes; the hidden activations are in the layout table."""
    codes = np.zeros(N_CODES, dtype=np.int64)
    codes[C_OUT], codes[C_LOSS] = out, LOSS_CODES[loss]
    return codes


@pytest.mark.parametrize("n_rows", [1, 7, 512, 1300])
@pytest.mark.parametrize("dtype", DTYPES)
def test_predict_matches_reference(rng, dtype, n_rows):
    """Prediction (train_epoch in MODE_PREDICT, row blocks as parallel tasks)
    equals one big NumPy forward pass, across block boundaries."""
    units = (20, 33, 3)
    coefs, intercepts = random_net(rng, units, dtype)
    X = rng.standard_normal((n_rows, 20)).astype(dtype)
    layout = ParamLayout(units, [ACT_TANH])
    out = _solver.predict_raw(
        layout.pack(coefs, intercepts, dtype),
        layout,
        X,
        codes_for(ACT_SOFTMAX),
        dtype,
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


def full_batch_gradient(coefs, intercepts, X, Y, sw, layout, loss):
    """L-BFGS's objective: train_epoch with SOLVER_NONE over the whole batch."""
    fun = _solver.lbfgs_objective(
        layout,
        X,
        Y,
        sw,
        codes_for(OUTPUTS[loss], loss),
        1e-3,
        loss,
        np.float64,
    )  # fmt: skip  (ParamLayout's default hidden activation is relu)
    return fun(layout.pack(coefs, intercepts, np.float64))


def test_full_batch_gradient_matches_reference_and_any_thread_count(rng, monkeypatch):
    """The full batch is cut into row chunks (fixed by its size) that run as
    parallel tasks and are summed in order: the objective equals the NumPy
    reference, and is bit-identical on 1 and all threads and on the serial
    branch a forked child takes."""
    units = (50, 70, 40, 10)
    coefs, intercepts = random_net(rng, units, np.float64)
    n = 1300  # 16 chunks of 82 rows, the last one ragged
    X = rng.standard_normal((n, 50))
    Y = np.eye(10)[rng.integers(0, 10, n)]
    sw = rng.uniform(0.5, 2, n)
    layout = ParamLayout(units)
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = full_batch_gradient(coefs, intercepts, X, Y, sw, layout, "log_loss")
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = full_batch_gradient(coefs, intercepts, X, Y, sw, layout, "log_loss")
    finally:
        numba.set_num_threads(previous)
    monkeypatch.setattr(_solver, "parallel_allowed", lambda: False)
    serial = full_batch_gradient(coefs, intercepts, X, Y, sw, layout, "log_loss")
    for other in (many, serial):
        assert one[0] == other[0]
        assert_array_equal(one[1], other[1])

    loss_sum, dW, db = reference.mlp_loss_grad(
        coefs, intercepts, X, Y, sw, ACT_RELU, ACT_SOFTMAX, LOSS_CODES["log_loss"],
        0.0, np.float64,
    )  # fmt: skip
    sq = sum(float((c**2).sum()) for c in coefs)
    assert_allclose(one[0], (loss_sum + 0.5e-3 * sq) / sw.sum(), rtol=1e-12)
    flat = (
        np.concatenate([(d + 1e-3 * c).ravel() for d, c in zip(dW, coefs)] + list(db))
        / sw.sum()
    )
    assert_allclose(one[1], flat, rtol=1e-9, atol=1e-14)
