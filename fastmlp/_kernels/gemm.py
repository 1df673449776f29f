"""Matrix products for the three shapes an MLP needs.

    forward          U  = H  @ W      matmul_nn(C, A, B, accumulate, parallel, work)
    input gradient   dH = dU @ W.T    matmul_nt(C, A, B, parallel, work)
    weight gradient  dW = H.T @ dU    matmul_tn(C, A, B, parallel, work)

All arrays are C-contiguous and share one dtype (float32 or float64). ``work`` is
a 1-D scratch buffer of that dtype with at least ``gemm_work_size(M, N, K)``
elements, allocated once per fit. ``parallel`` selects the ``prange`` branch; the
caller decides it from the problem shape only (never from the thread count), and
each output element is computed by exactly one thread in a fixed order, so the
result is bit-identical for any number of threads.

``gemm_naive`` is the reference (and the fallback the tests compare against).
"""

import numpy as np
from numba import prange

from .._jit import kernel, parallel_kernel

MR = 4  # rows of C per task


def gemm_work_size(M, N, K):
    """Scratch elements needed by any product with dimensions <= (M, N, K)."""
    return 1


@kernel
def gemm_naive(C, A, B):
    """C = A @ B by the textbook triple loop. A (M, K), B (K, N) -> C (M, N)."""
    M, K = A.shape
    N = B.shape[1]
    for i in range(M):
        for j in range(N):
            s = C.dtype.type(0)
            for k in range(K):
                s += A[i, k] * B[k, j]
            C[i, j] = s


@parallel_kernel
def matmul_nn(C, A, B, accumulate, parallel, work):
    """C (+)= A @ B.  A (M, K), B (K, N) -> C (M, N)."""
    M, K = A.shape
    N = B.shape[1]
    n_tasks = (M + MR - 1) // MR
    if parallel:
        for t in prange(n_tasks):
            _nn_rows(C, A, B, accumulate, t * MR, min(t * MR + MR, M), K, N)
    else:
        for t in range(n_tasks):
            _nn_rows(C, A, B, accumulate, t * MR, min(t * MR + MR, M), K, N)


@kernel
def _nn_rows(C, A, B, accumulate, i0, i1, K, N):
    c = C.ravel()
    a = A.ravel()
    b = B.ravel()
    zero = C.dtype.type(0)
    if not accumulate:
        for i in range(i0, i1):
            for j in range(N):
                c[i * N + j] = zero
    for k in range(K):
        for i in range(i0, i1):
            aik = a[i * K + k]
            for j in range(N):
                c[i * N + j] += aik * b[k * N + j]


@parallel_kernel
def matmul_nt(C, A, B, parallel, work):
    """C = A @ B.T.  A (M, K), B (N, K) -> C (M, N)."""
    M, K = A.shape
    N = B.shape[0]
    if parallel:
        for i in prange(M):
            _nt_row(C, A, B, i, K, N)
    else:
        for i in range(M):
            _nt_row(C, A, B, i, K, N)


@kernel
def _nt_row(C, A, B, i, K, N):
    c = C.ravel()
    a = A.ravel()
    b = B.ravel()
    for j in range(N):
        s = C.dtype.type(0)
        for k in range(K):
            s += a[i * K + k] * b[j * K + k]
        c[i * N + j] = s


@parallel_kernel
def matmul_tn(C, A, B, parallel, work):
    """C = A.T @ B.  A (K, M), B (K, N) -> C (M, N)."""
    K, M = A.shape
    N = B.shape[1]
    n_tasks = (M + MR - 1) // MR
    if parallel:
        for t in prange(n_tasks):
            _tn_rows(C, A, B, t * MR, min(t * MR + MR, M), K, M, N)
    else:
        for t in range(n_tasks):
            _tn_rows(C, A, B, t * MR, min(t * MR + MR, M), K, M, N)


@kernel
def _tn_rows(C, A, B, i0, i1, K, M, N):
    c = C.ravel()
    a = A.ravel()
    b = B.ravel()
    zero = C.dtype.type(0)
    for i in range(i0, i1):
        for j in range(N):
            c[i * N + j] = zero
    for k in range(K):
        for i in range(i0, i1):
            aki = a[k * M + i]
            for j in range(N):
                c[i * N + j] += aki * b[k * N + j]
