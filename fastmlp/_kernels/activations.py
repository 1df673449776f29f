"""Activations: fused bias-add + forward, and the derivative from the forward output.

Integer codes, not function arguments, select the activation (STYLE 3.3): a code is
one compiled specialisation, a function argument is one per function. The branch on
the code sits outside the loops so each loop body is straight-line and vectorises.

exp and tanh are fastmlp's vectorisable versions (mathfn.py, within 2 ulp):
libm's are one call per element and keep these loops scalar.

Derivatives are written in terms of the forward output A = f(Z), as scikit-learn's
``_base.py`` does, so the backward pass never needs the pre-activation Z:
identity 1, logistic A(1 - A), tanh 1 - A^2, relu [A > 0], leaky_relu 1 or
0.01. fastmlp's other hidden activations (torch's definitions)

    elu       z > 0 ? z : expm1(z)            f' = z > 0 ? 1 : exp(z)
    gelu      z Phi(z)  (exact, erf based)    f' = Phi(z) + z phi(z)
    silu      z sigmoid(z)                    f' = s (1 + z (1 - s)),  s = sigmoid(z)
    softplus  log(1 + exp(z))                 f' = sigmoid(z)

have no such form (or only an inaccurate one), so training computes f'(Z) in
the forward pass, beside f(Z), into the layer's saved-derivative block
(layout.D_OFF); so does any layer with dropout, its mask folded into f'. The
backward pass then multiplies by that block.
Those four, and dropout, live in extended.py, a kernel called by address that
is compiled only when a network uses them: their vectorised expm1, log1p and
normal CDF took 7 s of every first fit's compile when they were branches here.
"""

from .._jit import inline_kernel, kernel
from .mathfn import vexp, vtanh
from .views import view1d

ACT_IDENTITY = 0
ACT_LOGISTIC = 1
ACT_TANH = 2
ACT_RELU = 3
ACT_SOFTMAX = 4  # output layer only
ACT_EXP = 5  # output layer only (Poisson log link)
ACT_LEAKY_RELU = 6
ACT_ELU = 7
ACT_GELU = 8
ACT_SILU = 9
ACT_SOFTPLUS = 10

LEAKY_SLOPE = 0.01  # torch's default negative_slope

ACTIVATION_CODES = {
    "identity": ACT_IDENTITY,
    "logistic": ACT_LOGISTIC,
    "tanh": ACT_TANH,
    "relu": ACT_RELU,
    "softmax": ACT_SOFTMAX,
    "exp": ACT_EXP,
    "leaky_relu": ACT_LEAKY_RELU,
    "elu": ACT_ELU,
    "gelu": ACT_GELU,
    "silu": ACT_SILU,
    "softplus": ACT_SOFTPLUS,
}
# scikit-learn's hidden activations, then fastmlp's
SKLEARN_HIDDEN = ("identity", "logistic", "tanh", "relu")
HIDDEN_ACTIVATIONS = SKLEARN_HIDDEN + ("leaky_relu", "elu", "gelu", "silu", "softplus")
# hidden activations whose derivative training saves in the forward pass: they
# are extended.py's, compiled only for a network that uses them
SAVED_DERIVATIVE = frozenset((ACT_ELU, ACT_GELU, ACT_SILU, ACT_SOFTPLUS))


@inline_kernel
def _bias_activation_row(z, b, code):
    """z = f(z + b) for one row z (n,), b (n,), in place (not softmax)."""
    T = z.dtype.type
    n = z.shape[0]
    if code == ACT_IDENTITY:
        for j in range(n):
            z[j] = z[j] + b[j]
    elif code == ACT_RELU:
        for j in range(n):
            u = z[j] + b[j]
            z[j] = u if u > T(0) else T(0)
    elif code == ACT_TANH:
        for j in range(n):
            z[j] = vtanh(z[j] + b[j])
    elif code == ACT_LOGISTIC:
        for j in range(n):
            z[j] = T(1) / (T(1) + vexp(-(z[j] + b[j])))
    elif code == ACT_EXP:
        for j in range(n):
            z[j] = vexp(z[j] + b[j])
    elif code == ACT_LEAKY_RELU:
        for j in range(n):
            u = z[j] + b[j]
            z[j] = u if u > T(0) else u * T(LEAKY_SLOPE)
    # ACT_SOFTMAX: _softmax_rows, on the whole block; ACT_ELU and later:
    # extended.extended_forward, called by address


@inline_kernel
def _derivative_from_output_row(d, a, code):
    """d = f'(Z) from A = f(Z), for the activations that allow it."""
    T = d.dtype.type
    n = d.shape[0]
    if code == ACT_RELU:
        for j in range(n):
            d[j] = T(1) if a[j] > T(0) else T(0)
    elif code == ACT_LEAKY_RELU:
        for j in range(n):
            d[j] = T(1) if a[j] > T(0) else T(LEAKY_SLOPE)
    elif code == ACT_TANH:
        for j in range(n):
            d[j] = T(1) - a[j] * a[j]
    elif code == ACT_LOGISTIC:
        for j in range(n):
            d[j] = a[j] * (T(1) - a[j])
    else:  # ACT_IDENTITY
        for j in range(n):
            d[j] = T(1)


@inline_kernel
def _softmax_rows(Z, b):
    """Z = softmax(Z + b) row by row, the row max subtracted as scikit-learn
    does. The exps run over the whole block in one loop: row by row, a 10-class
    output's exp loop was too short to vectorise (3.1 us for 50 rows)."""
    T = Z.dtype.type
    n, m = Z.shape
    for i in range(n):
        z = Z[i]
        zmax = z[0] + b[0]
        for j in range(m):
            z[j] = z[j] + b[j]
            if z[j] > zmax:
                zmax = z[j]
        for j in range(m):
            z[j] = z[j] - zmax
    flat = view1d(Z, 0, n * m)
    for k in range(n * m):
        flat[k] = vexp(flat[k])
    for i in range(n):
        z = Z[i]
        total = T(0)
        for j in range(m):
            total += z[j]
        for j in range(m):
            z[j] = z[j] / total


@kernel
def bias_activation_forward(Z, b, code, j0, j1):
    """Z[:, j0:j1] = f(Z + b)[:, j0:j1] in place, row by row.  Z (n_samples,
    fan_out) C-contiguous, b (fan_out,). Softmax needs whole rows: it ignores
    the column range. Each element's operations do not depend on the range."""
    if code == ACT_SOFTMAX:
        _softmax_rows(Z, b)
        return
    # rows as view1d views: a slice Z[i][j0:j1] normalises its bounds per row,
    # ~10-40% of a 32 x 64 call (tests/kernels/test_activations checks the bits)
    n, width = Z.shape[1], j1 - j0
    bj = view1d(b, j0, width)
    for i in range(Z.shape[0]):
        _bias_activation_row(view1d(Z, i * n + j0, width), bj, code)


@inline_kernel
def activation_backward_row(dz, a, code):
    T = dz.dtype.type
    n = dz.shape[0]
    if code == ACT_RELU:
        for j in range(n):
            if a[j] == T(0):
                dz[j] = T(0)
    elif code == ACT_TANH:
        for j in range(n):
            dz[j] = dz[j] * (T(1) - a[j] * a[j])
    elif code == ACT_LOGISTIC:
        for j in range(n):
            dz[j] = dz[j] * a[j] * (T(1) - a[j])
    elif code == ACT_LEAKY_RELU:
        for j in range(n):
            if a[j] <= T(0):
                dz[j] = dz[j] * T(LEAKY_SLOPE)
    # ACT_IDENTITY: derivative 1, nothing to do; ACT_ELU and later: saved


@kernel
def activation_backward(dZ, A, code, j0, j1):
    """dZ[:, j0:j1] *= f'(Z), with f' written in terms of the forward output
    A = f(Z).

    dZ, A (n_samples, fan_out); dZ written in place."""
    if code == ACT_IDENTITY:
        return
    n, width = dZ.shape[1], j1 - j0
    for i in range(dZ.shape[0]):
        activation_backward_row(
            view1d(dZ, i * n + j0, width), view1d(A, i * n + j0, width), code
        )
