"""Input Jacobian of the network, d output / d input, by a batched reverse pass.

For a block of nb rows and n_outputs outputs, the reverse pass is run for every
output at once: the deltas of all outputs are stacked into one
(n_outputs * nb, fan) matrix, output k's rows in block k, so each layer is one
``dU @ W.T`` product over n_outputs * nb rows instead of n_outputs small ones.

Maths (layers l = 0 .. L-1, H_l = f_l(U_l), U_l = H_{l-1} W_l + b_l):
  seed      D_{L-1}[k, r, :] = d P[r, k] / d U_{L-1}[r, :]
            identity e_k; exp P_k e_k; logistic P_k (1 - P_k) e_k;
            softmax P_k (e_k - P)
  backward  D_{l-1} = (D_l W_l^T) * f'_{l-1}(H_{l-1})    (same H for every k)
  input     J[r, k, :] = D_0[k, r, :] W_0^T
The derivative f' is taken from the forward output, as in training (the
row kernel of activations.activation_backward), or, for the activations that
need it, from the block the forward pass saved (the Jacobian's layout table
has derivative blocks and no dropout).

Blocks are independent: they run as tasks of one parallel region, each group of
blocks on its own buffers (acts, work, xb, D0, D1 have a leading group axis),
and every block is computed by the same serial kernels, so J does not depend on
the thread count. Nothing allocates: the buffers are sized once per call for
``block`` rows, with D0/D1 holding n_outputs * block * max(layer width) values.
"""

import numpy as np
from numba import prange

from .._jit import inline_kernel, kernel, parallel_kernel
from .activations import (
    ACT_EXP,
    ACT_IDENTITY,
    ACT_LOGISTIC,
    ACT_SOFTMAX,
    activation_backward_row,
)
from .gemm import matmul_nt
from .indirect import call_kernel
from .network import (
    ACT,
    D_OFF,
    FAN_IN,
    FAN_OUT,
    forward,
    layer_view,
    saved_derivative,
    weights,
)
from .sparse import batch_input
from .views import view2d


@kernel
def output_seed(D, P, out_code):
    """D[k, r, j] = d P[r, k] / d U[r, j] for the output activation ``out_code``.

    D (n_outputs, nb, n_outputs), P (nb, n_outputs) the output activations."""
    T = D.dtype.type
    n_out, nb = D.shape[0], D.shape[1]
    for k in range(n_out):
        for r in range(nb):
            p = P[r, k]
            if out_code == ACT_SOFTMAX:
                for j in range(n_out):
                    D[k, r, j] = -p * P[r, j]
                D[k, r, k] += p
            else:
                for j in range(n_out):
                    D[k, r, j] = T(0)
                if out_code == ACT_IDENTITY:
                    D[k, r, k] = T(1)
                elif out_code == ACT_LOGISTIC:
                    D[k, r, k] = p * (T(1) - p)
                elif out_code == ACT_EXP:
                    D[k, r, k] = p


@kernel
def stacked_activation_backward(dH, H, D, code, saved):
    """dH[k * nb + r] *= f'(H[r]) for every output block k: from the forward
    outputs H (nb, fan), or with ``saved`` the saved derivatives D (nb, fan).

    dH (n_outputs * nb, fan)."""
    if code == ACT_IDENTITY and not saved:
        return
    nb = H.shape[0]
    for i in range(dH.shape[0]):
        if saved:
            dh = dH[i]
            d = D[i % nb]
            for j in range(dh.shape[0]):
                dh[j] = dh[j] * d[j]
        else:
            activation_backward_row(dH[i], H[i % nb], code)


@kernel
def jacobian_block(
    J, acts, work, D0, D1, xb, X, rows, start, stop, theta, layout, out_code,
):  # fmt: skip
    """J[start:stop] for the rows rows[start:stop] (one block), serially.

    input_jacobian calls it through its address (indirect.py), with the
    argument types _solver.jacobian_raw compiles it for."""
    n_layers = layout.shape[0]
    n_out = J.shape[1]
    n_features = J.shape[2]
    nb = stop - start
    Xb = batch_input(xb, X, rows, start, stop)
    P = forward(acts, work, Xb, theta, layout, out_code, rows[start:stop], np.int64(0))
    cur = D0
    nxt = D1
    output_seed(view3d_seed(cur, n_out, nb), P, out_code)
    for layer in range(n_layers - 1, -1, -1):
        fan_in = layout[layer, FAN_IN]
        fan_out = layout[layer, FAN_OUT]
        W, _ = weights(theta, layout, layer)
        dU = view2d(cur, 0, n_out * nb, fan_out)
        dH = view2d(nxt, 0, n_out * nb, fan_in)
        matmul_nt(dH, dU, W, work, np.intp(0), fan_in)  # (n_out * nb, fan_in)
        if layer > 0:
            H = layer_view(acts, layout, layer - 1, nb)  # (nb, fan_in)
            saved = layout[layer - 1, D_OFF] >= 0
            D = saved_derivative(acts, layout, layer - 1, nb) if saved else H
            stacked_activation_backward(dH, H, D, layout[layer - 1, ACT], saved)
        cur, nxt = nxt, cur
    # cur holds D_{-1}: (n_out, nb, n_features), output k's rows in block k.
    for k in range(n_out):
        for r in range(nb):
            src = (k * nb + r) * n_features
            for j in range(n_features):
                J[start + r, k, j] = cur[src + j]


@inline_kernel
def view3d_seed(buf, n_out, nb):
    """The (n_out, nb, n_out) seed block at the start of a flat delta buffer."""
    return buf[: n_out * nb * n_out].reshape((n_out, nb, n_out))


@parallel_kernel
def input_jacobian(
    J, acts, work, D0, D1, xb, X, rows, block, theta, layout, out_code, parallel,
    block_addr, block_key,
):  # fmt: skip
    """J[i, k, j] = d output_k / d x_j at X[rows[i]], in blocks of ``block`` rows.

    J (n, n_outputs, n_features); X dense (n_samples, n_features), each block
    copied into xb, or a CSRMatrix read in place. acts, work, D0, D1 (n_groups,
    ...) and xb (n_groups, block, n_features): group g's buffers, for ``block``
    rows, with work also large enough for every layer's D @ W.T
    (gemm_work_size(., fan_in, fan_out)) and D0, D1 ping-pong delta buffers of
    n_outputs * block * max width. Group g runs blocks g, g + n_groups, ...; the
    groups run in parallel when ``parallel``. Each block is a ``jacobian_block``
    call through its address ``block_addr`` (key ``block_key``); returns False,
    computing nothing, if the key does not match."""
    n = rows.shape[0]
    n_blocks = (n + block - 1) // block
    n_groups = acts.shape[0]
    zero = np.intp(0)
    if not call_kernel(
        block_addr, block_key,
        (J, acts[0], work[0], D0[0], D1[0], xb[0], X, rows, zero, zero, theta,
         layout, out_code), (),
    ):  # fmt: skip
        return False  # an empty block above: nothing computed
    if parallel and n_groups > 1:
        for g in prange(n_groups):
            for b in range(g, n_blocks, n_groups):
                call_kernel(
                    block_addr, block_key,
                    (J, acts[g], work[g], D0[g], D1[g], xb[g], X, rows,
                     np.intp(b * block), np.intp(min(b * block + block, n)), theta,
                     layout, out_code), (),
                )  # fmt: skip
    else:
        for b in range(n_blocks):
            call_kernel(
                block_addr, block_key,
                (J, acts[0], work[0], D0[0], D1[0], xb[0], X, rows,
                 np.intp(b * block), np.intp(min(b * block + block, n)), theta,
                 layout, out_code), (),
            )  # fmt: skip
    return True
