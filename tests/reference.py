"""Plain NumPy twins of the kernels (STYLE 3.7, llm.c's *_naive).

Written from the maths, independently of the kernels' loop structure."""

import numpy as np
from scipy.special import expit, ndtr, xlogy

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
from fastmlp._kernels.losses import (
    LOSS_ABSOLUTE,
    LOSS_BINARY_LOG,
    LOSS_HUBER,
    LOSS_POISSON,
    LOSS_QUANTILE,
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
    if code == ACT_LEAKY_RELU:
        return np.where(U > 0, U, 0.01 * U)
    if code == ACT_ELU:
        return np.where(U > 0, U, np.expm1(np.minimum(U, 0)))
    if code == ACT_GELU:
        return U * ndtr(U)
    if code == ACT_SILU:
        return U * expit(U)
    if code == ACT_SOFTPLUS:
        return np.logaddexp(0.0, U)
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
    if code == ACT_LEAKY_RELU:
        return np.where(A > 0, 1.0, 0.01)
    raise ValueError(code)


def derivative_at(U, code):
    """f'(U) from the pre-activation U, for every hidden activation."""
    if code == ACT_IDENTITY:
        return np.ones_like(U)
    if code == ACT_LOGISTIC:
        return expit(U) * (1 - expit(U))
    if code == ACT_TANH:
        return 1 - np.tanh(U) ** 2
    if code == ACT_RELU:
        return (U > 0).astype(U.dtype)
    if code == ACT_LEAKY_RELU:
        return np.where(U > 0, 1.0, 0.01)
    if code == ACT_ELU:
        return np.where(U > 0, 1.0, np.exp(np.minimum(U, 0)))
    if code == ACT_GELU:
        return ndtr(U) + U * np.exp(-0.5 * U * U) / np.sqrt(2 * np.pi)
    if code == ACT_SILU:
        s = expit(U)
        return s * (1 + U * (1 - s))
    if code == ACT_SOFTPLUS:
        return expit(U)
    raise ValueError(code)


def elementwise_loss(R, loss_code, param):
    """(loss, d loss / d p) of the residuals R = P - Y, elementwise."""
    if loss_code == LOSS_ABSOLUTE:
        return np.abs(R), np.sign(R)
    if loss_code == LOSS_HUBER:
        a = np.abs(R)
        quad = a <= param
        return (
            np.where(quad, 0.5 * R * R, param * (a - 0.5 * param)),
            np.clip(R, -param, param),
        )
    if loss_code == LOSS_QUANTILE:
        E = -R  # y - p
        loss = np.maximum(param * E, (param - 1) * E)
        return loss, np.where(R > 0, 1 - param, np.where(R < 0, -param, 0.0))
    raise ValueError(loss_code)


# SplitMix64 and the key schedule of fastmlp/_kernels/dropout.py, from its
# docstring, in NumPy uint64 arithmetic (wrapping).
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_K = [
    np.uint64(c) for c in (0x9E3779B97F4A7C15, 0xD1B54A32D192ED03, 0xAEF17502108EF2D9)
]


def mix64(z):
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def epoch_key(seed, seen):
    """The epoch's key, an int64 >= 0."""
    with np.errstate(over="ignore"):
        return int(mix64(np.uint64(seed) + mix64(np.uint64(seen))) >> np.uint64(1))


def dropout_multipliers(seed, seen, layer, rows, width, rate):
    """(len(rows), width) multipliers: 1 / (1 - p') for kept units, 0 for dropped."""
    with np.errstate(over="ignore"):
        key = np.uint64(epoch_key(seed, seen))
        lk = mix64(key + np.uint64(layer) * _K[0])
        rk = mix64(lk + np.asarray(rows, dtype=np.uint64) * _K[1])
        h = mix64(rk[:, None] + np.arange(width, dtype=np.uint64)[None, :] * _K[2])
    threshold = round(rate * 2.0**32)
    keep = (h >> np.uint64(32)) >= np.uint64(threshold)
    return np.where(keep, 2.0**32 / (2.0**32 - threshold), 0.0)


def row_losses(P, Y, loss_code, dtype=None, param=0.0):
    """Per-row losses; probabilities are clipped at the eps of ``dtype`` (the
    working dtype, default P's), as scikit-learn clips at its array's eps."""
    eps = np.finfo(dtype or P.dtype).eps
    P = P.astype(np.float64)
    Y = Y.astype(np.float64)
    if loss_code == LOSS_SQUARED:
        return 0.5 * ((Y - P) ** 2).mean(axis=1)
    if loss_code in (LOSS_ABSOLUTE, LOSS_HUBER, LOSS_QUANTILE):
        return elementwise_loss(P - Y, loss_code, param)[0].mean(axis=1)
    if loss_code == LOSS_POISSON:
        return (xlogy(Y, Y / P) - Y + P).sum(axis=1)
    Pc = np.clip(P, eps, 1 - eps)
    out = -xlogy(Y, Pc).sum(axis=1)
    if loss_code == LOSS_BINARY_LOG:
        out -= xlogy(1 - Y, 1 - Pc).sum(axis=1)
    return out


def mlp_loss_grad(
    coefs, intercepts, X, Y, sw, act_code, out_code, loss_code, alpha, dtype=None,
    loss_param=0.0, masks=None,
):  # fmt: skip
    """scikit-learn's batch objective and its raw gradient pieces, in NumPy.

    ``act_code``: one code or one per hidden layer; ``masks``: per hidden
    layer, dropout multipliers (n, fan_out) or None. Derivatives are taken at
    the pre-activations. Returns (weighted loss sum, dW list, db list) with
    dW = H.T @ dU and db = dU.sum(0) before the alpha / sw_sum normalisation."""
    n_hidden = len(coefs) - 1
    codes = [act_code] * n_hidden if np.ndim(act_code) == 0 else list(act_code)
    masks = [None] * n_hidden if masks is None else masks
    H, derivs = [X], []
    for layer, (W, b) in enumerate(zip(coefs, intercepts)):
        U = H[-1] @ W + b
        if layer == n_hidden:
            H.append(activation(U, out_code))
            break
        A, d = activation(U, codes[layer]), derivative_at(U, codes[layer])
        if masks[layer] is not None:
            A, d = A * masks[layer], d * masks[layer]
        H.append(A)
        derivs.append(d)
    P = H[-1]
    rows = row_losses(P, Y, loss_code, dtype, loss_param)
    loss_sum = float(np.dot(sw.astype(np.float64), rows))
    if loss_code in (LOSS_ABSOLUTE, LOSS_HUBER, LOSS_QUANTILE):
        grad = elementwise_loss(P - Y, loss_code, loss_param)[1] / P.shape[1]
        dU = grad * sw[:, None]
    else:
        dU = (P - Y) * sw[:, None]
    dWs, dbs = [None] * len(coefs), [None] * len(coefs)
    for layer in range(len(coefs) - 1, -1, -1):
        dWs[layer] = H[layer].T @ dU
        dbs[layer] = dU.sum(axis=0)
        if layer > 0:
            dU = (dU @ coefs[layer].T) * derivs[layer - 1]
    return loss_sum, dWs, dbs
