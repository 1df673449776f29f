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

CSRMatrix = namedtuple("CSRMatrix", ["data", "indices", "indptr"])
CSRRows = namedtuple("CSRRows", ["data", "indices", "indptr", "rows"])


@inline_kernel
def _csr_row_times_dense(u, data, indices, lo, hi, W):
    """u = sum_p data[p] * W[indices[p]] over p in [lo, hi). u (fan_out,)."""
    T = u.dtype.type
    for j in range(u.shape[0]):
        u[j] = T(0)
    for p in range(lo, hi):
        v = data[p]
        w = W[indices[p]]
        for j in range(u.shape[0]):
            u[j] += v * w[j]


@kernel
def csr_forward(U, Xb, W):
    """U = X[rows] @ W.  U (nb, fan_out), W (n_features, fan_out).

    Each output row sums its row's nonzeros in order."""
    data, indices, indptr, rows = Xb
    for r in range(rows.shape[0]):
        i = rows[r]
        _csr_row_times_dense(U[r], data, indices, indptr[i], indptr[i + 1], W)


@kernel
def csr_weight_grad(dW, Xb, dU):
    """dW = X[rows].T @ dU.  dW (n_features, fan_out), dU (nb, fan_out).

    Each row of dW adds the batch rows that touch it in batch order. Row slices
    and loops from 0, so the inner loop vectorises."""
    data, indices, indptr, rows = Xb
    T = dW.dtype.type
    for f in range(dW.shape[0]):
        dw = dW[f]
        for j in range(dw.shape[0]):
            dw[j] = T(0)
    for r in range(rows.shape[0]):
        i = rows[r]
        du = dU[r]
        for p in range(indptr[i], indptr[i + 1]):
            v = data[p]
            dw = dW[indices[p]]
            for j in range(du.shape[0]):
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


def batch_rows(Xb):
    """Rows in a batch input (dense array or CSRRows)."""
    if isinstance(Xb, CSRRows):
        return Xb.rows.shape[0]
    return Xb.shape[0]


def input_forward(U, Xb, W, work):
    """U = Xb @ W for the first layer."""
    if isinstance(Xb, CSRRows):
        csr_forward(U, Xb, W)
    else:
        matmul_nn(U, Xb, W, np.bool_(False), work)


def input_weight_grad(dW, Xb, dU, work):
    """dW = Xb.T @ dU for the first layer."""
    if isinstance(Xb, CSRRows):
        csr_weight_grad(dW, Xb, dU)
    else:
        matmul_tn(dW, Xb, dU, work)


def _is_csr(ty):
    return isinstance(ty, types.NamedTuple) and ty.instance_class in (
        CSRMatrix,
        CSRRows,
    )


if not JIT_DISABLED:

    @overload_kernel(batch_input)
    def _ol_batch_input(xb, X, idx, start, stop):
        if _is_csr(X):

            def impl(xb, X, idx, start, stop):
                return CSRRows(X.data, X.indices, X.indptr, idx[start:stop])

            return impl

        def impl(xb, X, idx, start, stop):
            Xb = xb[: stop - start]
            for r in range(stop - start):
                i = idx[start + r]
                for j in range(X.shape[1]):
                    Xb[r, j] = X[i, j]
            return Xb

        return impl

    @overload_kernel(batch_rows)
    def _ol_batch_rows(Xb):
        if _is_csr(Xb):
            return lambda Xb: Xb.rows.shape[0]
        return lambda Xb: Xb.shape[0]

    @overload_kernel(input_forward)
    def _ol_input_forward(U, Xb, W, work):
        if _is_csr(Xb):
            return lambda U, Xb, W, work: csr_forward(U, Xb, W)
        return lambda U, Xb, W, work: matmul_nn(U, Xb, W, np.bool_(False), work)

    @overload_kernel(input_weight_grad)
    def _ol_input_weight_grad(dW, Xb, dU, work):
        if _is_csr(Xb):
            return lambda dW, Xb, dU, work: csr_weight_grad(dW, Xb, dU)
        return lambda dW, Xb, dU, work: matmul_tn(dW, Xb, dU, work)
