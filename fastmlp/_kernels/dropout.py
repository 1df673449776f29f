"""Dropout masks from a counter-based generator: no state, no draws in order.

Whether unit j of hidden layer l is kept for row i (the row's index in X) in
an epoch is a pure function of (key, l, i, j), where the epoch's key mixes the
estimator's dropout seed (drawn from ``random_state`` once per model) with the
number of samples the model had seen when the epoch began (``t_``, so
``partial_fit`` and ``warm_start`` go on with fresh masks):

    key  = mix(seed + mix(seen))
    h    = mix(mix(mix(key + l K1) + i K2) + j K3)        (uint64, wrapping)
    keep = (h >> 32) >= DROP,   DROP = round(p 2^32)

with ``mix`` SplitMix64's finaliser (Steele, Lea and Flood 2014; a bijection
that passes BigCrush as a counter-based generator). No chunk, tile or thread
order enters a mask, so dropout is bit-identical for any n_jobs, and a NumPy
twin reproduces it (tests/kernels/test_dropout.py). Kept units are scaled by
1 / (1 - p') with p' = DROP / 2^32, the rate the mask realises (|p' - p| <=
2^-33): inverted dropout, so prediction uses the weights as they are.
"""

import numpy as np

from .._jit import JIT_DISABLED, inline_kernel
from .views import view1d

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
K_LAYER = np.uint64(0x9E3779B97F4A7C15)  # odd constants (golden ratio, ...)
K_ROW = np.uint64(0xD1B54A32D192ED03)
K_UNIT = np.uint64(0xAEF17502108EF2D9)
_S30, _S27, _S31, _S32 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(32)


def dropout_threshold(rate):
    """DROP for a dropout rate in [0, 1): round(rate * 2^32), 0 for none."""
    return int(round(float(rate) * 2.0**32))


def dropout_scale(threshold):
    """1 / (1 - p') of a threshold, in float64 (the kernels cast it)."""
    return 2.0**32 / (2.0**32 - float(threshold))


@inline_kernel
def mix64(z):
    """SplitMix64's output function on a uint64."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


if JIT_DISABLED:  # NumPy scalars warn where the compiled code wraps silently
    _mix64 = mix64

    def mix64(z):
        with np.errstate(over="ignore"):
            return _mix64(z)


@inline_kernel
def epoch_key(seed, seen):
    """The epoch's key (int64 >= 0) from the model's seed (int64 >= 0) and the
    samples seen before the epoch (a float64 holding an integer)."""
    k = mix64(np.uint64(seed) + mix64(np.uint64(np.int64(seen))))
    return np.int64(k >> np.uint64(1))


@inline_kernel
def dropout_rows(A, D, rows, key, layer, threshold, j0, j1):
    """Inverted dropout on columns j0..j1-1 of a hidden layer's outputs A and
    saved derivatives D (both (nb, fan_out), in place): dropped units are 0,
    kept ones scaled by 1 / (1 - p'). ``rows`` (nb,) the rows' indices in X,
    ``key`` the epoch's key (epoch_key), ``threshold`` the layer's DROP."""
    T = A.dtype.type
    scale = T(4294967296.0 / (4294967296.0 - np.float64(threshold)))
    thr = np.uint64(threshold)
    lk = mix64(np.uint64(key) + np.uint64(layer) * K_LAYER)
    n, width = A.shape[1], j1 - j0
    for i in range(A.shape[0]):
        rk = mix64(lk + np.uint64(rows[i]) * K_ROW)
        a = view1d(A, i * n + j0, width)
        d = view1d(D, i * n + j0, width)
        for j in range(width):
            h = mix64(rk + np.uint64(j0 + j) * K_UNIT)
            m = scale if (h >> _S32) >= thr else T(0)
            a[j] = a[j] * m
            d[j] = d[j] * m
