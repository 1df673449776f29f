"""Sparse (CSR) input for the first layer, and the type-dispatched input layer.

A sparse X is never densified: the first layer's forward product and weight
gradient read X's nonzeros directly. A batch is ``CSRRows(data, indices, indptr,
rows)``: the CSR arrays of the whole matrix plus the batch's row numbers (a view
of the epoch's shuffled index array), so forming a batch copies nothing.

``batch_input``, ``input_forward`` and ``input_weight_grad`` are dispatched on the
type of X at compile time (``@overload``): a 2-D array takes the dense GEMM path,
a CSR tuple the kernels below. ``train_epochs`` and friends are written once.
"""

from collections import namedtuple

import numpy as np
from numba import types

from .._jit import JIT_DISABLED, inline_kernel, kernel, overload_kernel
from .gemm import matmul_nn, matmul_tn
from .views import view1d

CSRMatrix = namedtuple("CSRMatrix", ["data", "indices", "indptr"])
CSRRows = namedtuple("CSRRows", ["data", "indices", "indptr", "rows"])


@inline_kernel
def _csr_row_times_dense(u, data, indices, lo, hi, W, j0, j1):
    """u = sum_p data[p] * W[indices[p], j0:j1] over p in [lo, hi). u (j1 - j0,)."""
    T = u.dtype.type
    n, width = W.shape[1], j1 - j0
    for j in range(width):
        u[j] = T(0)
    for p in range(lo, hi):
        v = data[p]
        w = view1d(W, indices[p] * n + j0, width)
        for j in range(width):
            u[j] += v * w[j]


@kernel
def csr_forward(U, Xb, W, j0, j1):
    """U[:, j0:j1] = X[rows] @ W[:, j0:j1].  U (nb, fan_out), W (n_features,
    fan_out).

    Each output element sums its row's nonzeros in order, whatever the
    column range."""
    data, indices, indptr, rows = Xb
    n, width = U.shape[1], j1 - j0
    for r in range(rows.shape[0]):
        i = rows[r]
        _csr_row_times_dense(
            view1d(U, r * n + j0, width), data, indices, indptr[i], indptr[i + 1],
            W, j0, j1,
        )  # fmt: skip


@kernel
def csr_weight_grad(dW, Xb, dU, j0, j1):
    """dW[:, j0:j1] = X[rows].T @ dU[:, j0:j1].  dW (n_features, fan_out), dU
    (nb, fan_out).

    Each row of dW adds the batch rows that touch it in batch order. Row views
    (view1d: a slice would normalise its bounds at every nonzero) and loops
    from 0, so the inner loop vectorises."""
    data, indices, indptr, rows = Xb
    T = dW.dtype.type
    n, width = dW.shape[1], j1 - j0
    for f in range(dW.shape[0]):
        dw = view1d(dW, f * n + j0, width)
        for j in range(width):
            dw[j] = T(0)
    for r in range(rows.shape[0]):
        i = rows[r]
        du = view1d(dU, r * n + j0, width)
        for p in range(indptr[i], indptr[i + 1]):
            v = data[p]
            dw = view1d(dW, indices[p] * n + j0, width)
            for j in range(width):
                dw[j] += v * du[j]


# ---------------------------------------------------------------------------
# Type-dispatched input layer (dense ndarray or CSR)
# ---------------------------------------------------------------------------


def batch_input(xb, X, idx, start, stop):
    """The batch's input rows idx[start:stop]: dense rows copied into xb, or a
    CSRRows view of a sparse X."""
    if isinstance(X, CSRMatrix):
        return CSRRows(X.data, X.indices, X.indptr, idx[start:stop])
    nb = stop - start
    xb[:nb] = X[idx[start:stop]]
    return xb[:nb]


def gathered_input(xb, X, idx, start, stop):
    """The input rows idx[start:stop] that batch_input gathered before: xb's
    first rows for a dense X (nothing copied again), a CSRRows view of a
    sparse one."""
    if isinstance(X, CSRMatrix):
        return CSRRows(X.data, X.indices, X.indptr, idx[start:stop])
    return xb[: stop - start]


def batch_rows(Xb):
    """Rows in a batch input (dense array or CSRRows)."""
    if isinstance(Xb, CSRRows):
        return Xb.rows.shape[0]
    return Xb.shape[0]


def input_forward(U, Xb, W, work, j0, j1):
    """U[:, j0:j1] = Xb @ W[:, j0:j1] for the first layer."""
    if isinstance(Xb, CSRRows):
        csr_forward(U, Xb, W, j0, j1)
    else:
        matmul_nn(U, Xb, W, np.bool_(False), work, j0, j1)


def input_weight_grad(dW, Xb, dU, work, j0, j1):
    """dW[:, j0:j1] = Xb.T @ dU[:, j0:j1] for the first layer."""
    if isinstance(Xb, CSRRows):
        csr_weight_grad(dW, Xb, dU, j0, j1)
    else:
        matmul_tn(dW, Xb, dU, work, j0, j1)


def _is_csr(ty):
    return isinstance(ty, types.NamedTuple) and ty.instance_class in (
        CSRMatrix,
        CSRRows,
    )


if not JIT_DISABLED:

    def _csr_rows(xb, X, idx, start, stop):
        """batch_input's and gathered_input's CSR case: the batch's rows of X."""
        return CSRRows(X.data, X.indices, X.indptr, idx[start:stop])

    @overload_kernel(batch_input, inline=True)
    def _ol_batch_input(xb, X, idx, start, stop):
        if _is_csr(X):
            return _csr_rows

        def impl(xb, X, idx, start, stop):
            Xb = xb[: stop - start]
            for r in range(stop - start):
                i = idx[start + r]
                for j in range(X.shape[1]):
                    Xb[r, j] = X[i, j]
            return Xb

        return impl

    @overload_kernel(gathered_input, inline=True)
    def _ol_gathered_input(xb, X, idx, start, stop):
        if _is_csr(X):
            return _csr_rows
        return lambda xb, X, idx, start, stop: xb[: stop - start]

    @overload_kernel(batch_rows)
    def _ol_batch_rows(Xb):
        if _is_csr(Xb):
            return lambda Xb: Xb.rows.shape[0]
        return lambda Xb: Xb.shape[0]

    @overload_kernel(input_forward)
    def _ol_input_forward(U, Xb, W, work, j0, j1):
        if _is_csr(Xb):
            return lambda U, Xb, W, work, j0, j1: csr_forward(U, Xb, W, j0, j1)

        def impl(U, Xb, W, work, j0, j1):
            matmul_nn(U, Xb, W, np.bool_(False), work, j0, j1)

        return impl

    @overload_kernel(input_weight_grad)
    def _ol_input_weight_grad(dW, Xb, dU, work, j0, j1):
        if _is_csr(Xb):
            return lambda dW, Xb, dU, work, j0, j1: csr_weight_grad(dW, Xb, dU, j0, j1)
        return lambda dW, Xb, dU, work, j0, j1: matmul_tn(dW, Xb, dU, work, j0, j1)
