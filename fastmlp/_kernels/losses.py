"""Losses with their fused output deltas.

Each loss is paired with the output activation that makes its gradient with
respect to the output pre-activation equal to ``P - Y`` (the canonical link):
squared_error + identity, log_loss + softmax, binary_log_loss + logistic,
poisson + exp. The kernel therefore writes ``dZ = (P - Y) * sw`` and returns the
weighted sum of per-row losses; the caller divides by the weight sum.

Per-row losses follow scikit-learn's ``_base.py`` exactly:
  squared_error    0.5 / n_outputs * sum_j (y - p)^2          (half MSE, averaged over outputs)
  log_loss         -sum_j xlogy(y, clip(p))
  binary_log_loss  -sum_j xlogy(y, clip(p)) + xlogy(1 - y, 1 - clip(p))
  poisson          sum_j xlogy(y, y / p) - y + p              (half deviance)
with clip(p) = min(max(p, eps), 1 - eps) and eps the machine epsilon of P's dtype.

fastmlp's regression losses (identity output, ``loss_param`` their parameter)
are means over the outputs of an elementwise loss of r = p - y, and their delta
is its exact gradient, g(r) * sw / n_outputs (torch's reductions; scikit-learn's
squared error keeps its own delta P - Y, n_outputs times its loss's gradient):
  absolute_error   |r|                                     g = sign(r)
  huber            r^2 / 2 if |r| <= delta else            g = clip(r, -delta, delta)
                   delta (|r| - delta / 2)
  quantile         max(q (-r), (q - 1) (-r))  (pinball)    g = r > 0: 1 - q;  r < 0: -q
at a kink (r = 0; |r| = delta is smooth) g is 0 (absolute, quantile), as torch's.
"""

import numpy as np

from .._jit import inline_kernel, kernel

LOSS_SQUARED = 0
LOSS_LOG = 1
LOSS_BINARY_LOG = 2
LOSS_POISSON = 3
LOSS_ABSOLUTE = 4
LOSS_HUBER = 5
LOSS_QUANTILE = 6

LOSS_CODES = {
    "squared_error": LOSS_SQUARED,
    "log_loss": LOSS_LOG,
    "binary_log_loss": LOSS_BINARY_LOG,
    "poisson": LOSS_POISSON,
    "absolute_error": LOSS_ABSOLUTE,
    "huber": LOSS_HUBER,
    "quantile": LOSS_QUANTILE,
}


@inline_kernel
def elementwise_loss(r, loss_code, param):
    """(loss, gradient) of r = p - y for LOSS_ABSOLUTE .. LOSS_QUANTILE, in
    float64 (``param``: huber's delta, the quantile)."""
    if loss_code == LOSS_ABSOLUTE:
        g = 1.0 if r > 0.0 else (-1.0 if r < 0.0 else 0.0)
        return abs(r), g
    if loss_code == LOSS_HUBER:
        a = abs(r)
        if a <= param:
            return 0.5 * r * r, r
        return param * (a - 0.5 * param), param if r > 0.0 else -param
    # LOSS_QUANTILE
    if r > 0.0:
        return (1.0 - param) * r, 1.0 - param
    if r < 0.0:
        return -param * r, -param
    return 0.0, 0.0


@inline_kernel
def _xlogy(x, y):
    """x * log(y), with 0 * log(0) taken as 0 (scipy.special.xlogy)."""
    if x == 0.0:
        return 0.0
    return x * np.log(y)


@inline_kernel
def row_loss(p, y, loss_code, eps):
    """Loss of one sample: p, y (n_outputs,). Returned in float64."""
    n = p.shape[0]
    total = 0.0
    if loss_code == LOSS_SQUARED:
        for j in range(n):
            r = np.float64(y[j]) - np.float64(p[j])
            total += r * r
        return 0.5 * total / n
    if loss_code == LOSS_POISSON:
        for j in range(n):
            yj = np.float64(y[j])
            pj = np.float64(p[j])
            total += _xlogy(yj, yj / pj) - yj + pj
        return total
    for j in range(n):
        pj = min(max(np.float64(p[j]), eps), 1.0 - eps)
        yj = np.float64(y[j])
        total -= _xlogy(yj, pj)
        if loss_code == LOSS_BINARY_LOG:
            total -= _xlogy(1.0 - yj, 1.0 - pj)
    return total


@kernel
def loss_forward_backward(dZ, P, Y, sw, loss_code, loss_param):
    """dZ = (P - Y) * sw[:, None]; return sum_i sw_i * loss(P[i], Y[i]) (float64).
    For the elementwise regression losses dZ = g(P - Y) * sw[:, None] / n_outputs
    (``loss_param`` their parameter, see elementwise_loss).

    dZ, P, Y (n_samples, n_outputs); sw (n_samples,). dZ may be P (each
    element and row is read before it is overwritten): the validation loss
    (epochs.validation_score) needs only the sum. Serial: this touches only
    n_samples * n_outputs elements, far less than any layer's product. The
    per-row helpers are inlined: as calls they took 54 ns a row (a 38-row
    chunk of iris: 2.0 us, more than any of its matrix products)."""
    eps = np.float64(np.finfo(P.dtype).eps)
    total = 0.0
    if loss_code >= LOSS_ABSOLUTE:
        T = dZ.dtype.type
        n_out = P.shape[1]
        for i in range(P.shape[0]):
            w = sw[i]
            row = 0.0
            for j in range(n_out):
                r = np.float64(P[i, j]) - np.float64(Y[i, j])
                value, g = elementwise_loss(r, loss_code, loss_param)
                row += value
                dZ[i, j] = T(g / n_out) * w
            total += np.float64(w) * (row / n_out)
        return total
    for i in range(P.shape[0]):
        w = sw[i]
        # the row's loss before its deltas: dZ may be P itself
        total += np.float64(w) * row_loss(P[i], Y[i], loss_code, eps)
        for j in range(P.shape[1]):
            dZ[i, j] = (P[i, j] - Y[i, j]) * w
    return total
