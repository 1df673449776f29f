"""Where a layer's parameters and outputs live in the flat buffers.

``layout`` is an int64 array with one row per layer, columns ``[W_OFF, B_OFF,
FAN_IN, FAN_OUT, A_OFF, ACT, D_OFF, DROP, X_ADDR, X_KEY]``: the offsets of W_l (fan_in,
fan_out) and b_l (fan_out,) in theta (and in a gradient buffer of the same
shape), and of the layer's output block in the activation/delta work buffers
(room for ``max_rows * fan_out`` values); the layer's activation code
(activations.ACT_*; the output layer's is codes[C_OUT]); the offset in the
activation buffer of its saved derivative block (-1: none; training saves
f'(U) there, dropout mask included, where the derivative cannot be had from the
output or the layer has dropout); and its dropout threshold (0: none; a unit is
kept when the top 32 bits of its hash are >= DROP, see dropout.py); and, for
a layer with extended.py's activations or dropout, the address and key of the
kernel that computes it (0 otherwise; indirect.py). Built once
per fit, prediction or Jacobian in Python (_params.ParamLayout.table): a
prediction's table has no derivative blocks and no dropout, so the features
are data, not arguments.
"""

from .._jit import inline_kernel
from .views import view1d, view2d

W_OFF, B_OFF, FAN_IN, FAN_OUT, A_OFF, ACT, D_OFF, DROP, X_ADDR, X_KEY = range(10)
N_LAYOUT = 10


@inline_kernel
def layer_view(buf, layout, layer, n_rows):
    """The (n_rows, fan_out) block of ``buf`` that belongs to ``layer``."""
    return view2d(buf, layout[layer, A_OFF], n_rows, layout[layer, FAN_OUT])


@inline_kernel
def saved_derivative(buf, layout, layer, n_rows):
    """The (n_rows, fan_out) block of ``buf`` where training keeps ``layer``'s
    derivative (layout[layer, D_OFF] >= 0)."""
    return view2d(buf, layout[layer, D_OFF], n_rows, layout[layer, FAN_OUT])


@inline_kernel
def weights(theta, layout, layer):
    """Views (W, b) of layer ``layer`` into theta: W (fan_in, fan_out), b (fan_out,)."""
    return (
        view2d(
            theta, layout[layer, W_OFF], layout[layer, FAN_IN], layout[layer, FAN_OUT]
        ),
        view1d(theta, layout[layer, B_OFF], layout[layer, FAN_OUT]),
    )
