"""Flat parameter layout and initialisation.

``theta`` holds every coefficient matrix (row-major) and then every intercept,
the order of scikit-learn's ``_pack``, so L-BFGS can work on it directly. Between
fits the lists ``coefs_``/``intercepts_`` on the estimator are the source of truth
(pickling, hand-set weights); they are packed at the start of a fit and unpacked
at the end.
"""

import numpy as np

from ._kernels.network import A_OFF


class ParamLayout:
    """Offsets of every layer's weights in theta, and of its block in work buffers.

    Parameters
    ----------
    layer_units : sequence of int
        ``[n_features, *hidden_layer_sizes, n_outputs]``.
    """

    def __init__(self, layer_units):
        self.layer_units = [int(u) for u in layer_units]
        pairs = list(zip(self.layer_units[:-1], self.layer_units[1:]))
        self.n_layers = len(pairs)
        self.n_coef = sum(fi * fo for fi, fo in pairs)
        self.n_params = self.n_coef + sum(fo for _, fo in pairs)
        table = np.zeros((self.n_layers, 5), dtype=np.int64)
        w = 0
        b = self.n_coef
        a = 0
        for layer, (fi, fo) in enumerate(pairs):
            table[layer] = (w, b, fi, fo, a)
            w += fi * fo
            b += fo
            a += fo
        self._table = table
        self.units_after_input = a  # sum of fan_out over layers

    def table(self, max_rows):
        """The int64 layout table for work buffers holding ``max_rows`` rows."""
        t = self._table.copy()
        t[:, A_OFF] *= max_rows
        return t

    def activation_size(self, max_rows):
        return max_rows * self.units_after_input

    def pack(self, coefs, intercepts, dtype):
        theta = np.empty(self.n_params, dtype=dtype)
        for layer in range(self.n_layers):
            w, b, fi, fo, _ = self._table[layer]
            theta[w : w + fi * fo] = np.asarray(coefs[layer]).ravel()
            theta[b : b + fo] = intercepts[layer]
        return theta

    def unpack(self, theta):
        """Fresh (coefs, intercepts) lists copied out of theta."""
        coefs, intercepts = [], []
        for layer in range(self.n_layers):
            w, b, fi, fo, _ = self._table[layer]
            coefs.append(theta[w : w + fi * fo].reshape(fi, fo).copy())
            intercepts.append(theta[b : b + fo].copy())
        return coefs, intercepts


def glorot_uniform(random_state, layer_units, activation, dtype):
    """Initial (coefs, intercepts), drawn exactly as scikit-learn draws them.

    Per layer, in order: ``coef = rs.uniform(-bound, bound, (fan_in, fan_out))``
    then ``intercept = rs.uniform(-bound, bound, fan_out)``, with
    ``bound = sqrt(factor / (fan_in + fan_out))``, factor 2 for logistic hidden
    units and 6 otherwise (the output layer uses the hidden activation's factor).
    Draws are float64 and cast, so the stream continues identically afterwards.
    """
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coef = random_state.uniform(-bound, bound, (fan_in, fan_out))
        intercept = random_state.uniform(-bound, bound, fan_out)
        coefs.append(coef.astype(dtype, copy=False))
        intercepts.append(intercept.astype(dtype, copy=False))
    return coefs, intercepts
