"""Fixed-order reductions: results never depend on the thread count.

Each output element is summed by one thread, over rows in index order, so 1 and N
threads give bit-identical sums (STYLE 3.3)."""

from numba import prange

from .._jit import kernel, parallel_kernel

COLUMN_CHUNK = 64  # columns per parallel task in column_sum


@kernel
def _column_sum_range(out, A, j0, j1):
    # Row slices, loops from 0: a range(j0, j1) loop with 2-D indexing does not
    # vectorise.
    o = out[j0:j1]
    for j in range(o.shape[0]):
        o[j] = A.dtype.type(0)
    for i in range(A.shape[0]):
        a = A[i, j0:j1]
        for j in range(o.shape[0]):
            o[j] += a[j]


@parallel_kernel
def column_sum(out, A, parallel):
    """out = A.sum(axis=0). A (n_samples, n_cols) -> out (n_cols,).

    Parallel over chunks of columns; each column is summed over rows in order."""
    n_cols = A.shape[1]
    n_chunks = (n_cols + COLUMN_CHUNK - 1) // COLUMN_CHUNK
    if parallel and n_chunks > 1:
        for c in prange(n_chunks):
            _column_sum_range(
                out, A, c * COLUMN_CHUNK, min((c + 1) * COLUMN_CHUNK, n_cols)
            )
    else:
        _column_sum_range(out, A, 0, n_cols)
