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
row kernel of activations.activation_backward).

Nothing allocates: acts/work come from a Workspace sized for ``block`` rows and
D0/D1 hold n_outputs * block * max(layer width) values each.
"""

from numba import prange

from .._jit import composite_kernel, kernel, parallel_kernel
from .activations import (
    ACT_EXP,
    ACT_IDENTITY,
    ACT_LOGISTIC,
    ACT_SOFTMAX,
    activation_backward_row,
)
from .gemm import matmul_nt
from .network import FAN_IN, FAN_OUT, forward, layer_view, weights
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


@parallel_kernel
def stacked_activation_backward(dH, H, code, parallel):
    """dH[k * nb + r] *= f'(H[r]) for every output block k: activation_backward
    on the stacked deltas in one parallel region (not one per output).

    dH (n_outputs * nb, fan), H (nb, fan) the forward outputs."""
    if code == ACT_IDENTITY:
        return
    nb = H.shape[0]
    if parallel:
        for i in prange(dH.shape[0]):
            activation_backward_row(dH[i], H[i % nb], code)
    else:
        for i in range(dH.shape[0]):
            activation_backward_row(dH[i], H[i % nb], code)


@composite_kernel
def input_jacobian(
    J,
    acts,
    work,
    D0,
    D1,
    xb,
    X,
    rows,
    block,
    theta,
    layout,
    act_code,
    out_code,
    parallel,
):
    """J[i, k, j] = d output_k / d x_j at X[rows[i]], in blocks of ``block`` rows.

    J (n, n_outputs, n_features); X dense (n_samples, n_features), each block
    copied into xb, or a CSRMatrix read in place. acts/work: a Workspace's buffers
    for ``block`` rows, with work also large enough for every layer's D @ W.T
    (gemm_work_size(., fan_in, fan_out)). D0, D1 (n_outputs * block * max width,)
    ping-pong delta buffers."""
    n = rows.shape[0]
    n_layers = layout.shape[0]
    n_out = J.shape[1]
    n_features = J.shape[2]
    for start in range(0, n, block):
        stop = min(start + block, n)
        nb = stop - start
        Xb = batch_input(xb, X, rows, start, stop)
        P = forward(acts, work, Xb, theta, layout, act_code, out_code, parallel)
        cur = D0
        nxt = D1
        output_seed(cur[: n_out * nb * n_out].reshape((n_out, nb, n_out)), P, out_code)
        for layer in range(n_layers - 1, -1, -1):
            fan_in = layout[layer, FAN_IN]
            fan_out = layout[layer, FAN_OUT]
            W, _ = weights(theta, layout, layer)
            dU = view2d(cur, 0, n_out * nb, fan_out)
            dH = view2d(nxt, 0, n_out * nb, fan_in)
            matmul_nt(dH, dU, W, parallel, work)  # (n_out * nb, fan_in)
            if layer > 0:
                H = layer_view(acts, layout, layer - 1, nb)  # (nb, fan_in)
                stacked_activation_backward(dH, H, act_code, parallel)
            cur, nxt = nxt, cur
        # cur holds D_{-1}: (n_out, nb, n_features), output k's rows in block k.
        for k in range(n_out):
            for r in range(nb):
                src = (k * nb + r) * n_features
                for j in range(n_features):
                    J[start + r, k, j] = cur[src + j]
