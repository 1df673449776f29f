"""Fixed-order reductions: each output element is summed over rows in index
order by one thread, so results never depend on the thread count (STYLE 3.3)."""

from .._jit import kernel


@kernel
def column_sum(out, A):
    """out = A.sum(axis=0). A (n_samples, n_cols) -> out (n_cols,).

    Each column is summed over rows in index order. Row slices and loops from
    0: a range(j0, j1) loop with 2-D indexing does not vectorise."""
    for j in range(out.shape[0]):
        out[j] = A.dtype.type(0)
    for i in range(A.shape[0]):
        a = A[i]
        for j in range(out.shape[0]):
            out[j] += a[j]
