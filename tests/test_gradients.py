"""Central finite differences of the full objective against the compiled backward
pass, in float64, for every hidden activation and every loss."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from fastmlp._kernels.activations import (
    ACT_EXP,
    ACT_IDENTITY,
    ACT_LOGISTIC,
    ACT_SOFTMAX,
    ACT_TANH,
    ACTIVATION_CODES,
    HIDDEN_ACTIVATIONS,
)
from fastmlp._kernels.losses import LOSS_CODES
from fastmlp._kernels.network import forward_backward
from fastmlp._params import ParamLayout
from fastmlp._solver import Workspace
from tests.kernels.test_network import random_net, random_targets

OUTPUTS = {
    "squared_error": ACT_IDENTITY,
    "log_loss": ACT_SOFTMAX,
    "binary_log_loss": ACT_LOGISTIC,
    "poisson": ACT_EXP,
    "absolute_error": ACT_IDENTITY,
    "huber": ACT_IDENTITY,
    "quantile": ACT_IDENTITY,
}
PARAMS = {"huber": 0.4, "quantile": 0.3}
ALPHA = 0.3


def objective_and_gradient(theta, layout, ws, X, Y, sw, act, loss, n_coef):
    """scikit-learn's objective J and the gradient the optimizers apply
    (``act`` is in the layout; the argument only names the case)."""
    rows = np.arange(X.shape[0])
    loss_sum = forward_backward(
        ws.G[0], ws.acts[0], ws.deltas[0], ws.work[0], X, Y, sw, rows, 0, theta,
        ws.table, OUTPUTS[loss], LOSS_CODES[loss], PARAMS.get(loss, 0.0),
    )  # fmt: skip
    S = sw.sum()
    J = loss_sum / S + 0.5 * ALPHA * (theta[:n_coef] @ theta[:n_coef]) / S
    grad = ws.G[0].copy()
    grad[:n_coef] += ALPHA * theta[:n_coef]
    return J, grad / S


@pytest.mark.parametrize("loss", list(OUTPUTS))
@pytest.mark.parametrize("act", HIDDEN_ACTIVATIONS)
def test_backprop_matches_central_differences(rng, act, loss):
    """Every hidden activation (torch's definitions for fastmlp's) and every
    loss; the second hidden layer tanh, so per-layer codes are exercised."""
    identity_out = OUTPUTS[loss] == ACT_IDENTITY and loss != "squared_error"
    units = (4, 6, 5, 3 if loss != "squared_error" else 1)
    if identity_out:
        units = (4, 6, 5, 2)
    coefs, intercepts = random_net(rng, units, np.float64)
    n = 9
    X = rng.standard_normal((n, units[0]))
    Y = random_targets(rng, "squared_error" if identity_out else loss, n, units[-1],
                       np.float64)  # fmt: skip
    sw = rng.uniform(0.5, 2.0, n)
    layout = ParamLayout(units, [ACTIVATION_CODES[act], ACT_TANH])
    ws = Workspace(layout, n, units[0], units[-1], np.float64)
    theta = layout.pack(coefs, intercepts, np.float64)
    _, grad = objective_and_gradient(
        theta, layout, ws, X, Y, sw, act, loss, layout.n_coef
    )
    eps = 1e-6
    numeric = np.empty_like(theta)
    for k in range(theta.size):
        tp, tm = theta.copy(), theta.copy()
        tp[k] += eps
        tm[k] -= eps
        jp, _ = objective_and_gradient(
            tp, layout, ws, X, Y, sw, act, loss, layout.n_coef
        )
        jm, _ = objective_and_gradient(
            tm, layout, ws, X, Y, sw, act, loss, layout.n_coef
        )
        numeric[k] = (jp - jm) / (2 * eps)
    err = np.abs(grad - numeric)
    # relu and the new losses have kinks; the random points are almost surely
    # more than eps away from them.
    assert err.max() < 1e-6
    assert err.mean() < 1e-8


def test_multi_output_squared_error_gradient_is_scaled_like_scikit_learn(rng):
    """With K outputs the raw gradient is K times that of the reported loss
    (scikit-learn #8349); sgd/adam keep it for parity, lbfgs divides it out."""
    units = (3, 4, 3)
    coefs, intercepts = random_net(rng, units, np.float64)
    X = rng.standard_normal((6, 3))
    Y = rng.standard_normal((6, 3))
    sw = np.ones(6)
    layout = ParamLayout(units, [ACT_TANH])
    ws = Workspace(layout, 6, 3, 3, np.float64)
    theta = layout.pack(coefs, intercepts, np.float64)
    args = (layout, ws, X, Y, sw, ACT_TANH, "squared_error", layout.n_coef)
    global ALPHA
    saved, ALPHA = ALPHA, 0.0
    try:
        _, grad = objective_and_gradient(theta, *args)
        k, eps = 5, 1e-6
        tp, tm = theta.copy(), theta.copy()
        tp[k] += eps
        tm[k] -= eps
        numeric = (
            objective_and_gradient(tp, *args)[0] - objective_and_gradient(tm, *args)[0]
        ) / (2 * eps)
    finally:
        ALPHA = saved
    assert_allclose(grad[k] / numeric, 3.0, rtol=1e-6)


@pytest.mark.parametrize(
    "loss", ["squared_error", "poisson", "absolute_error", "huber", "quantile"]
)
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_lbfgs_objective_gradient_is_that_of_its_loss(rng, loss, n_outputs):
    """The L-BFGS gradient matches central differences of the loss it reports,
    including multi-output squared error (where scikit-learn's is n_outputs times
    too large, #8349)."""
    from fastmlp._kernels.activations import ACTIVATION_CODES
    from fastmlp._solver import lbfgs_objective

    units = (4, 5, n_outputs)
    coefs, intercepts = random_net(rng, units, np.float64)
    layout = ParamLayout(units, [ACT_TANH])
    theta = layout.pack(coefs, intercepts, np.float64)
    X = rng.standard_normal((11, 4))
    Y = random_targets(rng, loss, 11, n_outputs, np.float64)
    sw = rng.uniform(0.5, 2.0, 11)
    out = "exp" if loss == "poisson" else "identity"
    from fastmlp._kernels.network import C_LOSS, C_OUT, N_CODES

    codes = np.zeros(N_CODES, dtype=np.int64)
    codes[C_OUT], codes[C_LOSS] = ACTIVATION_CODES[out], LOSS_CODES[loss]
    fun = lbfgs_objective(layout, X, Y, sw, codes, ALPHA, loss, np.float64,
                          PARAMS.get(loss, 0.0))  # fmt: skip
    _, grad = fun(theta)
    eps = 1e-6
    numeric = np.empty_like(theta)
    for k in range(theta.size):
        tp, tm = theta.copy(), theta.copy()
        tp[k] += eps
        tm[k] -= eps
        numeric[k] = (fun(tp)[0] - fun(tm)[0]) / (2 * eps)
    assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)
