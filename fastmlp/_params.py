"""Flat parameter layout and initialisation.

``theta`` holds every coefficient matrix (row-major) and then every intercept,
the order of scikit-learn's ``_pack``, so L-BFGS can work on it directly. Between
fits the lists ``coefs_``/``intercepts_`` on the estimator are the source of truth
(pickling, hand-set weights); they are packed at the start of a fit and unpacked
at the end.
"""

import numpy as np

from ._kernels.activations import ACT_RELU, SAVED_DERIVATIVE
from ._kernels.dropout import dropout_threshold
from ._kernels.extended import entry_point
from ._kernels.layout import A_OFF, ACT, D_OFF, DROP, FAN_OUT, N_LAYOUT, X_ADDR, X_KEY


class ParamLayout:
    """Offsets of every layer's weights in theta, and of its block in work buffers.

    Parameters
    ----------
    layer_units : sequence of int
        ``[n_features, *hidden_layer_sizes, n_outputs]``.
    activations : sequence of int, optional
        The hidden layers' activation codes (activations.ACT_*), default relu.
    dropout : sequence of float, optional
        The hidden layers' dropout rates in [0, 1), default none.
    """

    def __init__(self, layer_units, activations=None, dropout=None):
        self.layer_units = [int(u) for u in layer_units]
        pairs = list(zip(self.layer_units[:-1], self.layer_units[1:]))
        self.n_layers = len(pairs)
        n_hidden = self.n_layers - 1
        if activations is None:
            activations = [ACT_RELU] * n_hidden
        if dropout is None:
            dropout = [0.0] * n_hidden
        self.activations = [int(c) for c in activations]
        self.dropout = [float(p) for p in dropout]
        if len(self.activations) != n_hidden or len(self.dropout) != n_hidden:
            raise ValueError("one activation and one dropout rate per hidden layer")
        self.n_coef = sum(fi * fo for fi, fo in pairs)
        self.n_params = self.n_coef + sum(fo for _, fo in pairs)
        table = np.zeros((self.n_layers, N_LAYOUT), dtype=np.int64)
        w = 0
        b = self.n_coef
        a = 0
        for layer, (fi, fo) in enumerate(pairs):
            table[layer, : A_OFF + 1] = (w, b, fi, fo, a)
            if layer < n_hidden:
                table[layer, ACT] = self.activations[layer]
                table[layer, DROP] = dropout_threshold(self.dropout[layer])
            w += fi * fo
            b += fo
            a += fo
        table[:, D_OFF] = -1
        self._table = table
        self.units_after_input = a  # sum of fan_out over layers

    def _extended(self, dropout):
        """Hidden layers that extended.py's kernel computes: one of its
        activations, or (``dropout``: training) dropout."""
        return [
            layer
            for layer in range(self.n_layers - 1)
            if self.activations[layer] in SAVED_DERIVATIVE
            or (dropout and self._table[layer, DROP] > 0)
        ]

    def _saved(self, derivatives, dropout):
        """Layers that keep a derivative block in a table of this kind: the
        extended ones, where derivatives are kept at all."""
        return self._extended(dropout) if derivatives else []

    def table(self, max_rows, derivatives=False, dropout=False, dtype=None):
        """The int64 layout table for work buffers holding ``max_rows`` rows.

        ``derivatives``: training or the Jacobian, which keep derivative blocks
        where an activation needs them; ``dropout``: training's dropout (with
        its derivative blocks). A prediction's table has neither. ``dtype``:
        the buffers' float type, needed (and extended.py's kernel compiled for
        it) when a layer has one of its activations or dropout."""
        t = self._table.copy()
        extended = self._extended(dropout)
        if extended:  # extended.py's kernel, compiled for this dtype
            if dtype is None:
                raise ValueError("this network's layout table needs its dtype")
            t[extended, X_ADDR], t[extended, X_KEY] = entry_point(dtype)
        t[:, A_OFF] *= max_rows
        if not dropout:
            t[:, DROP] = 0
        d = self.units_after_input
        for layer in self._saved(derivatives, dropout):
            t[layer, D_OFF] = d * max_rows
            d += t[layer, FAN_OUT]
        return t

    def activation_size(self, max_rows, derivatives=False, dropout=False):
        saved = sum(self.layer_units[k + 1] for k in self._saved(derivatives, dropout))
        return max_rows * (self.units_after_input + saved)

    def pack(self, coefs, intercepts, dtype):
        theta = np.empty(self.n_params, dtype=dtype)
        for layer in range(self.n_layers):
            w, b, fi, fo = self._table[layer, :4]
            theta[w : w + fi * fo] = np.asarray(coefs[layer]).ravel()
            theta[b : b + fo] = intercepts[layer]
        return theta

    def unpack(self, theta):
        """Fresh (coefs, intercepts) lists copied out of theta."""
        coefs, intercepts = [], []
        for layer in range(self.n_layers):
            w, b, fi, fo = self._table[layer, :4]
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
    ``activation``: one name, or one per hidden layer (fastmlp): layer l's
    factor is then its own activation's, the output layer's the last one's.
    """
    n_layers = len(layer_units) - 1
    if isinstance(activation, str):
        activation = [activation] * max(n_layers - 1, 1)
    names = list(activation) + [activation[-1]]
    coefs, intercepts = [], []
    for layer, (fan_in, fan_out) in enumerate(zip(layer_units[:-1], layer_units[1:])):
        factor = 2.0 if names[layer] == "logistic" else 6.0
        bound = np.sqrt(factor / (fan_in + fan_out))
        coef = random_state.uniform(-bound, bound, (fan_in, fan_out))
        intercept = random_state.uniform(-bound, bound, fan_out)
        coefs.append(coef.astype(dtype, copy=False))
        intercepts.append(intercept.astype(dtype, copy=False))
    return coefs, intercepts
