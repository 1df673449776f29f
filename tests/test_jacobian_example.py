"""The chain rule, checked on the worked Jacobian from the course notes and on the
network's own backward pass.

f(x) = [5 - 2 x1 + 3 x3,  x1 + 5 x2^2 + x3^3 - 1] has Jacobian
       [[-2, 0, 3], [1, 10 x2, 3 x3^2]].
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from fastmlp._kernels.activations import (
    ACT_IDENTITY,
    ACT_LOGISTIC,
    ACT_TANH,
    activation_backward,
)
from fastmlp._kernels.gemm import matmul_nt
from fastmlp._kernels.network import forward
from fastmlp._params import ParamLayout
from fastmlp._solver import Workspace
from tests.kernels.test_network import random_net


def course_f(x):
    x1, x2, x3 = x
    return np.array([5 - 2 * x1 + 3 * x3, x1 + 5 * x2**2 + x3**3 - 1])


def course_jacobian(x):
    _, x2, x3 = x
    return np.array([[-2.0, 0.0, 3.0], [1.0, 10 * x2, 3 * x3**2]])


def central_jacobian(f, x, eps=1e-6):
    """J[i, j] = d f_i / d x_j by central differences."""
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = eps
        cols.append((f(x + e) - f(x - e)) / (2 * eps))
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("x", [(0.0, 0.0, 0.0), (1.0, 2.0, 3.0), (-0.5, 0.25, -2.0)])
def test_course_jacobian(x):
    x = np.array(x)
    assert_allclose(central_jacobian(course_f, x), course_jacobian(x), atol=1e-6)


def test_chain_rule_composition_of_course_function(rng):
    """J_(g o f)(x) = J_g(f(x)) J_f(x), with g a linear map then tanh."""
    A = rng.standard_normal((2, 2))
    g = lambda y: np.tanh(A @ y)  # noqa: E731
    x = np.array([0.3, -0.2, 0.1])
    y = course_f(x)
    Jg = (1 - np.tanh(A @ y) ** 2)[:, None] * A
    assert_allclose(
        central_jacobian(lambda v: g(course_f(v)), x),
        Jg @ course_jacobian(x),
        rtol=1e-6,
        atol=1e-7,
    )


def network_input_jacobian(theta, table, n_layers, X, act, out_code, ws):
    """d output / d input by the kernels' backward pass, one output at a time:
    dU_L = e_k, then dH_{l-1} = (dU_l W_l^T) * f'(H_{l-1}) down to the input."""
    n, n_in = X.shape
    rows = np.arange(n)
    P = forward(ws.acts[0], ws.work[0], X, theta, table, out_code, rows, -1).copy()
    n_out = P.shape[1]
    J = np.empty((n, n_out, n_in))
    for k in range(n_out):
        dU = np.zeros((n, n_out))
        dU[:, k] = 1.0
        for layer in range(n_layers - 1, -1, -1):
            w, _, fi, fo, a_off = table[layer, :5]
            W = theta[w : w + fi * fo].reshape(fi, fo)
            dH = np.empty((n, fi))
            matmul_nt(dH, dU, W, ws.work[0], 0, fi)
            if layer > 0:
                off = table[layer - 1, 4]
                H = ws.acts[0][off : off + n * fi].reshape(n, fi)
                activation_backward(dH, H, act, 0, fi)
            dU = dH
        J[:, k, :] = dU
    return P, J


@pytest.mark.parametrize("act", [ACT_TANH, ACT_LOGISTIC])
def test_network_input_jacobian_matches_finite_differences(rng, act):
    units = (3, 7, 5, 2)
    coefs, intercepts = random_net(rng, units, np.float64, scale=0.8)
    layout = ParamLayout(units, [act, act])
    theta = layout.pack(coefs, intercepts, np.float64)
    X = rng.standard_normal((4, 3))
    ws = Workspace(layout, 4, 3, 2, np.float64)
    _, J = network_input_jacobian(theta, ws.table, 3, X, act, ACT_IDENTITY, ws)

    def f(x):
        ws1 = Workspace(layout, 1, 3, 2, np.float64)
        return forward(
            ws1.acts[0],
            ws1.work[0],
            x[None, :],
            theta,
            ws1.table,
            ACT_IDENTITY,
            np.zeros(1, dtype=np.int64),
            -1,
        )[0].copy()

    for i in range(4):
        assert_allclose(J[i], central_jacobian(f, X[i]), rtol=1e-6, atol=1e-8)
