"""Hidden layers beyond scikit-learn's: elu, gelu, silu, softplus and dropout, in
one kernel compiled only for networks that use them.

The smooth activations need vectorised expm1, log1p and the normal CDF
(mathfn.py), and dropout a hash per unit; as branches of the activation kernels
they added about 7 s to every first fit's compile, a relu network's too. So
they are one kernel, ``extended_forward``, that network.forward_tile calls by
address (indirect.py): the address and key sit in the layer's row of the layout
table (layout.X_ADDR, X_KEY), set by ParamLayout.table through ``entry_point``
only for a layer with such an activation or (training) dropout. A network
without one never compiles this module's code.

    elu       z > 0 ? z : expm1(z)            f' = z > 0 ? 1 : exp(z)
    gelu      z Phi(z)  (exact, erf based)    f' = Phi(z) + z phi(z)
    silu      z sigmoid(z)                    f' = s (1 + z (1 - s)),  s = sigmoid(z)
    softplus  log(1 + exp(z))                 f' = sigmoid(z)

(torch's definitions, alpha = beta = 1). Training saves f' beside f in the
forward pass, into the layer's derivative block, and then applies dropout to
both (dropout.py); the backward pass multiplies by the block, in this kernel
too (X_BACKWARD). Prediction computes f alone; the Jacobian's forward saves f'
but has no dropout.
"""

import numpy as np
from numba import types

from .._jit import inline_kernel, kernel
from .activations import (
    ACT_ELU,
    ACT_GELU,
    ACT_SILU,
    _bias_activation_row,
    _derivative_from_output_row,
)
from .dropout import dropout_rows
from .indirect import table_entry
from .mathfn import vexp, vexpm1, vlog1p, vndtr
from .views import view1d

_INV_SQRT_2PI = 0.3989422804014327


@inline_kernel
def _elu(u):
    """(f(u), f'(u)) of elu."""
    T = type(u)
    e = vexpm1(min(u, T(0)))
    return (u, T(1)) if u > T(0) else (e, e + T(1))


@inline_kernel
def _gelu(u):
    """(f(u), f'(u)) of the exact gelu."""
    T = type(u)
    c = vndtr(u)
    return u * c, c + u * vexp(T(-0.5) * u * u) * T(_INV_SQRT_2PI)


@inline_kernel
def _silu(u):
    """(f(u), f'(u)) of silu."""
    T = type(u)
    s = T(1) / (T(1) + vexp(-u))
    return u * s, s * (T(1) + u * (T(1) - s))


@inline_kernel
def _softplus(u):
    """(f(u), f'(u)) of softplus: max(u, 0) + log1p(e) and sigmoid(u) from the
    one e = exp(-|u|) (no overflow): 1 / (1 + e) for u >= 0, e / (1 + e) below."""
    T = type(u)
    e = vexp(-abs(u))
    s = T(1) / (T(1) + e)
    return max(u, T(0)) + vlog1p(e), s if u >= T(0) else e * s


@inline_kernel
def _smooth_row(z, d, b, code, save):
    """z = f(z + b), and with ``save`` d = f'(z + b), for ACT_ELU ..
    ACT_SOFTPLUS. One straight loop per activation and form: a branch on the
    code inside the loop kept it scalar (5-9 ns per element instead of 1-4)."""
    n = z.shape[0]
    if code == ACT_ELU:
        if save:
            for j in range(n):
                z[j], d[j] = _elu(z[j] + b[j])
        else:
            for j in range(n):
                z[j] = _elu(z[j] + b[j])[0]
    elif code == ACT_GELU:
        if save:
            for j in range(n):
                z[j], d[j] = _gelu(z[j] + b[j])
        else:
            for j in range(n):
                z[j] = _gelu(z[j] + b[j])[0]
    elif code == ACT_SILU:
        if save:
            for j in range(n):
                z[j], d[j] = _silu(z[j] + b[j])
        else:
            for j in range(n):
                z[j] = _silu(z[j] + b[j])[0]
    elif save:  # ACT_SOFTPLUS
        for j in range(n):
            z[j], d[j] = _softplus(z[j] + b[j])
    else:
        for j in range(n):
            z[j] = _softplus(z[j] + b[j])[0]


# extended_forward's modes
X_PREDICT, X_TRAIN, X_BACKWARD = np.int64(0), np.int64(1), np.int64(2)


@kernel
def extended_forward(Z, D, b, rows, code, j0, j1, mode, key, layer, threshold):
    """Columns j0..j1-1 of a hidden layer. X_PREDICT: Z = f(Z + b) in place
    (D unused). X_TRAIN: the same, and D = f'(Z + b) (D like Z), then, if
    ``threshold`` > 0, dropout on Z and D for the rows ``rows`` (their indices
    in X) with the epoch's ``key`` (dropout.dropout_rows). X_BACKWARD: Z *= D,
    the backward pass through the saved derivative (Z the layer's delta; b,
    rows, code unused). ``code`` any hidden activation: the ones with a
    derivative from the output are computed as
    activations.bias_activation_forward computes them. Each element's
    operations do not depend on the range."""
    n, width = Z.shape[1], j1 - j0
    if mode == X_BACKWARD:
        for i in range(Z.shape[0]):
            dz = view1d(Z, i * n + j0, width)
            d = view1d(D, i * n + j0, width)
            for j in range(width):
                dz[j] = dz[j] * d[j]
        return
    save = mode == X_TRAIN
    bj = view1d(b, j0, width)
    for i in range(Z.shape[0]):
        z = view1d(Z, i * n + j0, width)
        d = view1d(D, i * n + j0, width)
        if code < ACT_ELU:
            _bias_activation_row(z, bj, code)
            if save:
                _derivative_from_output_row(d, z, code)
        else:
            _smooth_row(z, d, bj, code, save)
    if save and threshold > 0:
        dropout_rows(Z, D, rows, key, layer, threshold, j0, j1)


_entries = {}


def entry_point(dtype):
    """(address, key) of extended_forward for float ``dtype`` buffers, with
    the argument types of network.forward_tile's call; compiled (or loaded
    from the cache) on first use."""
    dtype = np.dtype(dtype)
    found = _entries.get(dtype)
    if found is None:
        from .._notice import notify_kernels

        mat, vec = np.empty((1, 1), dtype), np.empty(1, dtype)
        args = (mat, mat, vec, np.empty(1, np.int64)) + (0,) * 7
        notify_kernels("extended", extended_forward, args, dtype, sparse=None)
        T = types.float64 if dtype == np.float64 else types.float32
        mat, vec = types.Array(T, 2, "C"), types.Array(T, 1, "C")
        rows = types.Array(types.int64, 1, "C")
        argtypes = (mat, mat, vec, rows) + (types.int64,) * 7
        found = _entries[dtype] = table_entry(extended_forward, argtypes)
    return found
