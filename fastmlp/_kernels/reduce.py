"""Fixed-order reductions: each output element is summed over rows in index
order by one thread, so results never depend on the thread count (STYLE 3.3)."""

from .._jit import kernel


@kernel
def column_sum(out, A, j0, j1):
    """out[j0:j1] = A[:, j0:j1].sum(axis=0). A (n_samples, n_cols) -> out
    (n_cols,).

    Each column is summed over rows in index order, whatever the range. Row
    slices and loops from 0: a range(j0, j1) loop with 2-D indexing does not
    vectorise."""
    o = out[j0:j1]
    for j in range(o.shape[0]):
        o[j] = A.dtype.type(0)
    for i in range(A.shape[0]):
        a = A[i][j0:j1]
        for j in range(o.shape[0]):
            o[j] += a[j]
