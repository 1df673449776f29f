"""Input and target normalisation: per-column statistics from the training data,
and the affine map x_scaled = (x - offset) / scale.

Statistics are computed in float64 and honour ``sample_weight``: the weighted mean
and the weighted standard deviation (population normalisation, sum(w (x - m)^2) /
sum(w)) for "standard"; the minimum and maximum over the rows with nonzero
weight for "minmax". A constant column gets scale 1 (as scikit-learn's
``_handle_zeros_in_scale``), so it maps to 0 and never to NaN.

Sparse input is scaled without densifying, which is possible only when no
centring is needed: "minmax" with offset 0 (a per-column multiply of the stored
values). "standard" would centre every column, and "minmax" on negative stored
values would shift them; both raise a ValueError that says what to do instead.
"""

import numpy as np
import scipy.sparse as sp

SCALING_METHODS = ("standard", "minmax")
STATS_BLOCK_ROWS = 4096


def _positive_rows(sample_weight, n):
    """Row mask for min/max: rows with nonzero weight (all rows if none has)."""
    if sample_weight is None:
        return None
    mask = np.asarray(sample_weight) != 0
    return None if mask.all() or not mask.any() else mask


def _safe_scale(scale, constant):
    """Scale 1 where a column is constant or its scale is ~0 (no NaN, no inf)."""
    scale = np.where(constant | (scale < 10 * np.finfo(np.float64).eps), 1.0, scale)
    return scale


def sparse_scaling_error(method, what="X"):
    if method == "standard":
        why = (
            "input_scaling='standard' subtracts each column's mean, which would "
            "turn every implicit zero of the sparse %s into a stored value "
            "(densify it)." % what
        )
    else:
        why = (
            "input_scaling='minmax' on a sparse %s is done without densifying only "
            "when every stored value is >= 0 (each column then scales by its "
            "maximum, with offset 0); this %s has negative values, whose column "
            "minimum would have to be subtracted (densifying it)." % (what, what)
        )
    return ValueError(
        why + " Use input_scaling='minmax' for non-negative sparse data, pass a "
        "dense array, or scale the data beforehand (e.g. with "
        "sklearn.preprocessing.MaxAbsScaler) and use input_scaling=None."
    )


def fit_scaling(X, method, sample_weight=None):
    """(offset, scale) of shape (n_columns,), in X's dtype, for ``method``.

    X dense (n_samples, n_columns) or sparse (only "minmax" on non-negative
    values, see the module docstring)."""
    dtype = X.dtype
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        if method == "standard" or (X.nnz and X.data.min() < 0):
            raise sparse_scaling_error(method)
        mask = _positive_rows(sample_weight, X.shape[0])
        rows = X if mask is None else X[mask]
        col_max = np.asarray(rows.max(axis=0).toarray(), dtype=np.float64).ravel()
        offset = np.zeros(X.shape[1])
        scale = _safe_scale(col_max, col_max == 0)
        return offset.astype(dtype), scale.astype(dtype)

    weights = None
    if sample_weight is not None and np.any(np.asarray(sample_weight) != 0):
        weights = np.asarray(sample_weight, dtype=np.float64)
    mask = _positive_rows(sample_weight, X.shape[0])
    col_min, col_max, offset, var = _dense_moments(X, method, weights, mask)
    constant = col_max == col_min
    if method == "minmax":
        offset = col_min
        scale = _safe_scale(col_max - col_min, constant)
    else:
        scale = _safe_scale(np.sqrt(var), constant)
    return offset.astype(dtype), scale.astype(dtype)


def _row_blocks(X):
    """(start, block as float64) over blocks of STATS_BLOCK_ROWS rows, so the
    statistics never hold a float64 copy of the whole X."""
    for start in range(0, X.shape[0], STATS_BLOCK_ROWS):
        yield start, np.asarray(X[start : start + STATS_BLOCK_ROWS], dtype=np.float64)


def _dense_moments(X, method, weights, mask):
    """Column min and max over the rows in ``mask`` (all if None), and for
    "standard" the weighted mean and population variance (two passes)."""
    n_features = X.shape[1]
    col_min = np.full(n_features, np.inf)
    col_max = np.full(n_features, -np.inf)
    total = np.zeros(n_features)
    for start, B in _row_blocks(X):
        rows = B if mask is None else B[mask[start : start + len(B)]]
        if len(rows):
            np.minimum(col_min, rows.min(axis=0), out=col_min)
            np.maximum(col_max, rows.max(axis=0), out=col_max)
        if method == "standard":
            total += B.sum(axis=0) if weights is None else weights[start:][: len(B)] @ B
    if method != "standard":
        return col_min, col_max, None, None
    w_sum = float(X.shape[0]) if weights is None else weights.sum()
    mean = total / w_sum
    squares = np.zeros(n_features)
    for start, B in _row_blocks(X):
        B = B - mean  # a new block: B may be a view of the caller's X
        B *= B
        squares += B.sum(axis=0) if weights is None else weights[start:][: len(B)] @ B
    return col_min, col_max, mean, squares / w_sum


def apply_scaling(X, offset, scale, dtype=None):
    """(X - offset) / scale as a new array (CSR for sparse X, whose offset must be
    all zero). ``dtype`` defaults to X's."""
    dtype = X.dtype if dtype is None else dtype
    if sp.issparse(X):
        if np.any(offset != 0):
            raise ValueError(
                "This model was fitted with an input_scaling offset (column "
                "minimum or mean) that is not zero; subtracting it from a sparse "
                "X would densify it. Pass X as a dense array."
            )
        Xs = sp.csr_matrix(X, dtype=dtype, copy=True)
        Xs.data /= scale.astype(dtype, copy=False)[Xs.indices]
        return Xs
    Xs = np.subtract(X, offset, dtype=dtype)
    Xs /= scale.astype(dtype, copy=False)
    return Xs
