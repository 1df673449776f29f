"""Sparse (CSR) input for the first layer, and the type-dispatched input layer.

A sparse X is never densified: the first layer's forward product and weight
gradient read X's nonzeros directly. A batch is ``CSRRows(data, indices, indptr,
rows)``: the CSR arrays of the whole matrix plus the batch's row numbers (a view
of the epoch's shuffled index array), so forming a batch copies nothing.

``batch_input``, ``input_forward`` and ``input_weight_grad`` are dispatched on the
type of X at compile time (``@overload``): a 2-D array takes the dense GEMM path,
a CSR tuple the kernels below. ``train_epoch`` and friends are written once.
"""

from collections import namedtuple

import numpy as np
from numba import prange, types

from .._jit import JIT_DISABLED, kernel, overload_kernel, parallel_kernel
from .gemm import matmul_nn, matmul_tn

CSRMatrix = namedtuple("CSRMatrix", ["data", "indices", "indptr"])
CSRRows = namedtuple("CSRRows", ["data", "indices", "indptr", "rows"])

COLUMN_CHUNK = 64  # columns of dW per parallel task in csr_weight_grad


@kernel
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


@parallel_kernel
def csr_forward(U, Xb, W, parallel):
    """U = X[rows] @ W.  U (nb, fan_out), W (n_features, fan_out).

    Parallel over batch rows; each output row sums its row's nonzeros in order."""
    data, indices, indptr, rows = Xb
    if parallel:
        for r in prange(rows.shape[0]):
            i = rows[r]
            _csr_row_times_dense(U[r], data, indices, indptr[i], indptr[i + 1], W)
    else:
        for r in range(rows.shape[0]):
            i = rows[r]
            _csr_row_times_dense(U[r], data, indices, indptr[i], indptr[i + 1], W)


@kernel
def _csr_scatter_columns(dW, data, indices, indptr, rows, dU, j0, j1):
    """dW[:, j0:j1] = X[rows].T @ dU[:, j0:j1], adding batch rows in order.
    Row slices and loops from 0, so the inner loop vectorises."""
    T = dW.dtype.type
    for f in range(dW.shape[0]):
        dw = dW[f, j0:j1]
        for j in range(dw.shape[0]):
            dw[j] = T(0)
    for r in range(rows.shape[0]):
        i = rows[r]
        du = dU[r, j0:j1]
        for p in range(indptr[i], indptr[i + 1]):
            v = data[p]
            dw = dW[indices[p], j0:j1]
            for j in range(du.shape[0]):
                dw[j] += v * du[j]


@parallel_kernel
def csr_weight_grad(dW, Xb, dU, parallel):
    """dW = X[rows].T @ dU.  dW (n_features, fan_out), dU (nb, fan_out).

    Rows of dW are hit by many batch rows, so the parallel axis is dW's columns:
    each task owns a column block and adds rows in batch order (deterministic)."""
    data, indices, indptr, rows = Xb
    n_cols = dW.shape[1]
    n_chunks = (n_cols + COLUMN_CHUNK - 1) // COLUMN_CHUNK
    if parallel and n_chunks > 1:
        for c in prange(n_chunks):
            j0 = c * COLUMN_CHUNK
            _csr_scatter_columns(
                dW, data, indices, indptr, rows, dU, j0, min(j0 + COLUMN_CHUNK, n_cols)
            )
    else:
        _csr_scatter_columns(dW, data, indices, indptr, rows, dU, 0, n_cols)


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


def input_forward(U, Xb, W, parallel, work):
    """U = Xb @ W for the first layer."""
    if isinstance(Xb, CSRRows):
        csr_forward(U, Xb, W, parallel)
    else:
        matmul_nn(U, Xb, W, np.bool_(False), parallel, work)


def input_weight_grad(dW, Xb, dU, parallel, work):
    """dW = Xb.T @ dU for the first layer."""
    if isinstance(Xb, CSRRows):
        csr_weight_grad(dW, Xb, dU, parallel)
    else:
        matmul_tn(dW, Xb, dU, parallel, work)


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
    def _ol_input_forward(U, Xb, W, parallel, work):
        if _is_csr(Xb):
            return lambda U, Xb, W, parallel, work: csr_forward(U, Xb, W, parallel)
        return lambda U, Xb, W, parallel, work: matmul_nn(
            U, Xb, W, np.bool_(False), parallel, work
        )

    @overload_kernel(input_weight_grad)
    def _ol_input_weight_grad(dW, Xb, dU, parallel, work):
        if _is_csr(Xb):
            return lambda dW, Xb, dU, parallel, work: csr_weight_grad(
                dW, Xb, dU, parallel
            )
        return lambda dW, Xb, dU, parallel, work: matmul_tn(dW, Xb, dU, parallel, work)
