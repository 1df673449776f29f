"""Where a layer's parameters and outputs live in the flat buffers.

``layout`` is an int64 array with one row per layer, columns ``[W_OFF, B_OFF,
FAN_IN, FAN_OUT, A_OFF]``: the offsets of W_l (fan_in, fan_out) and b_l
(fan_out,) in theta (and in a gradient buffer of the same shape), and of the
layer's output block in the activation/delta work buffers (room for
``max_rows * fan_out`` values). Built and checked once per fit in Python
(_solver's layout table).
"""

from .._jit import inline_kernel
from .views import view1d, view2d

W_OFF, B_OFF, FAN_IN, FAN_OUT, A_OFF = 0, 1, 2, 3, 4


@inline_kernel
def layer_view(buf, layout, layer, n_rows):
    """The (n_rows, fan_out) block of ``buf`` that belongs to ``layer``."""
    return view2d(buf, layout[layer, A_OFF], n_rows, layout[layer, FAN_OUT])


@inline_kernel
def weights(theta, layout, layer):
    """Views (W, b) of layer ``layer`` into theta: W (fan_in, fan_out), b (fan_out,)."""
    return (
        view2d(
            theta, layout[layer, W_OFF], layout[layer, FAN_IN], layout[layer, FAN_OUT]
        ),
        view1d(theta, layout[layer, B_OFF], layout[layer, FAN_OUT]),
    )
