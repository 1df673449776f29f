"""Plain NumPy twins of the kernels (STYLE 3.7, llm.c's *_naive).

Written from the maths, independently of the kernels' loop structure."""

import numpy as np
from scipy.special import expit, xlogy

from fastmlp._kernels.activations import (
    ACT_EXP,
    ACT_IDENTITY,
    ACT_LOGISTIC,
    ACT_RELU,
    ACT_SOFTMAX,
    ACT_TANH,
)
from fastmlp._kernels.losses import (
    LOSS_BINARY_LOG,
    LOSS_POISSON,
    LOSS_SQUARED,
)


def activation(U, code):
    if code == ACT_IDENTITY:
        return U.copy()
    if code == ACT_LOGISTIC:
        return expit(U)
    if code == ACT_TANH:
        return np.tanh(U)
    if code == ACT_RELU:
        return np.maximum(U, 0)
    if code == ACT_EXP:
        return np.exp(U)
    if code == ACT_SOFTMAX:
        E = np.exp(U - U.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)
    raise ValueError(code)


def activation_derivative(A, code):
    """f'(U) expressed through A = f(U)."""
    if code == ACT_IDENTITY:
        return np.ones_like(A)
    if code == ACT_LOGISTIC:
        return A * (1 - A)
    if code == ACT_TANH:
        return 1 - A**2
    if code == ACT_RELU:
        return (A > 0).astype(A.dtype)
    raise ValueError(code)


def row_losses(P, Y, loss_code, dtype=None):
    """Per-row losses; probabilities are clipped at the eps of ``dtype`` (the
    working dtype, default P's), as scikit-learn clips at its array's eps."""
    eps = np.finfo(dtype or P.dtype).eps
    P = P.astype(np.float64)
    Y = Y.astype(np.float64)
    if loss_code == LOSS_SQUARED:
        return 0.5 * ((Y - P) ** 2).mean(axis=1)
    if loss_code == LOSS_POISSON:
        return (xlogy(Y, Y / P) - Y + P).sum(axis=1)
    Pc = np.clip(P, eps, 1 - eps)
    out = -xlogy(Y, Pc).sum(axis=1)
    if loss_code == LOSS_BINARY_LOG:
        out -= xlogy(1 - Y, 1 - Pc).sum(axis=1)
    return out


def mlp_loss_grad(
    coefs, intercepts, X, Y, sw, act_code, out_code, loss_code, alpha, dtype=None
):
    """scikit-learn's batch objective and its raw gradient pieces, in NumPy.

    Returns (weighted loss sum, dW list, db list) with dW = H.T @ dU and
    db = dU.sum(0) before the alpha / sw_sum normalisation."""
    H = [X]
    for layer, (W, b) in enumerate(zip(coefs, intercepts)):
        code = out_code if layer == len(coefs) - 1 else act_code
        H.append(activation(H[-1] @ W + b, code))
    P = H[-1]
    loss_sum = float(np.dot(sw.astype(np.float64), row_losses(P, Y, loss_code, dtype)))
    dU = (P - Y) * sw[:, None]
    dWs, dbs = [None] * len(coefs), [None] * len(coefs)
    for layer in range(len(coefs) - 1, -1, -1):
        dWs[layer] = H[layer].T @ dU
        dbs[layer] = dU.sum(axis=0)
        if layer > 0:
            dU = (dU @ coefs[layer].T) * activation_derivative(H[layer], act_code)
    return loss_sum, dWs, dbs
