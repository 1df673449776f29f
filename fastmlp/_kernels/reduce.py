"""Fixed-order reductions: each output element is summed over rows in index
order by one thread, so results never depend on the thread count (STYLE 3.3)."""

from .._jit import kernel
from .views import view1d


@kernel
def column_sum(out, A, j0, j1):
    """out[j0:j1] = A[:, j0:j1].sum(axis=0). A (n_samples, n_cols) -> out
    (n_cols,).

    Each column is summed over rows in index order, whatever the range. Row
    slices and loops from 0: a range(j0, j1) loop with 2-D indexing does not
    vectorise."""
    n, width = A.shape[1], j1 - j0
    o = view1d(out, j0, width)
    for j in range(width):
        o[j] = A.dtype.type(0)
    for i in range(A.shape[0]):
        a = view1d(A, i * n + j0, width)
        for j in range(width):
            o[j] += a[j]
