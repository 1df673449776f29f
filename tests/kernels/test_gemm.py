"""GEMM kernels against gemm_naive and NumPy, on shapes that hit every edge path.

Each kernel compiles once per dtype (Numba's dispatcher keeps it for the whole
session); inputs and references are built once per (shape, dtype) and shared by
the parallel / accumulate parametrisations.
"""

import functools
import os

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from fastmlp._kernels.gemm import (
    MR,
    gemm_naive,
    gemm_work_size,
    matmul_nn,
    matmul_nt,
    matmul_tn,
)

JIT_OFF = "NUMBA_DISABLE_JIT" in os.environ and os.environ["NUMBA_DISABLE_JIT"] != "0"
needs_jit = pytest.mark.skipif(JIT_OFF, reason="too slow as plain Python")

DTYPES = [np.float32, np.float64]

# (M, N, K): C (M, N) = A (M, K) @ B (K, N). Picked to cover: a single element;
# M < MR (GEMV rows); exactly one tile; one tile plus a ragged row / column
# (B read in place with masked loads); many tiles with ragged edges in M, N and
# K (packed path, K not a multiple of the 16 x 16 transpose block); N = 1; K = 1;
# K = 0; and the real 784 -> 512 layer at batch 128 (K > KC: several k blocks).
SHAPES = [
    (1, 1, 1),
    (37, 5, 13),
    (5, 13, 37),
    (1, 100, 64),
    (3, 70, 20),
    (MR, 32, 16),
    (9, 33, 17),
    (40, 1, 30),
    (64, 100, 1),
    (257, 65, 129),
    (2, 9, 0),
    (16, 40, 0),
    (1, 1, 32),  # GEMV with one output column (dot path)
    (70, 1, 45),  # one output column, many rows (dot / axpy paths)
    (32, 40, 2),  # two-row reduction: A.T @ B as a rank-2 update
    (150, 33, 3),  # rank-3 update over several row blocks
    (33, 1, 1),  # K = 1 and N = 1 together
    pytest.param((128, 512, 784), marks=needs_jit),
]


def tol(dtype, K):
    """assert_allclose tolerances; float32 ones grow with sqrt(K) (long sums)."""
    if dtype == np.float64:
        return dict(rtol=1e-10, atol=1e-12 * max(1.0, np.sqrt(K)))
    scale = max(1.0, np.sqrt(K))
    return dict(rtol=2e-5 * scale, atol=1e-6 * scale)


@functools.cache
def case(shape, dtype):
    """Inputs for all three layouts, NumPy reference (float64 math) and naive reference."""
    M, N, K = shape
    rng = np.random.default_rng(0)
    A = rng.uniform(-1, 1, (M, K)).astype(dtype)
    B = rng.uniform(-1, 1, (K, N)).astype(dtype)
    bias = rng.uniform(-1, 1, N).astype(dtype)
    exact = (A.astype(np.float64) @ B.astype(np.float64)).astype(dtype)
    naive = np.empty((M, N), dtype)
    gemm_naive(naive, A, B)
    return A, B, bias, exact, naive


def guarded(shape, dtype, pad=64, fill=np.nan):
    """A C-contiguous (M, N) output inside a buffer with sentinels on both sides."""
    M, N = shape
    buf = np.full(M * N + 2 * pad, fill, dtype)
    buf[:pad] = buf[-pad:] = 12345.0
    return buf, buf[pad : pad + M * N].reshape(M, N)


def guarded_work(M, N, K, dtype, pad=64):
    n = gemm_work_size(M, N, K)
    buf = np.full(n + pad, 12345.0, dtype)
    return buf, buf[:n]


def check_guards(buf, wbuf, pad=64):
    assert np.all(buf[:pad] == 12345.0) and np.all(buf[-pad:] == 12345.0), (
        "wrote outside C"
    )
    assert np.all(wbuf[-pad:] == 12345.0), "wrote outside work"


def check(got, shape, dtype, ref_exact, ref_naive):
    K = shape[2]
    assert got.dtype == dtype
    assert_allclose(got, ref_exact, **tol(dtype, K))
    assert_allclose(got, ref_naive, **tol(dtype, K))


def test_gemm_naive_matches_numpy():
    for dtype in DTYPES:
        A, B, _, exact, naive = case((37, 5, 13), dtype)
        assert_allclose(naive, exact, **tol(dtype, 13))


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_matmul_nn(shape, dtype, accumulate):
    M, N, K = shape
    A, B, bias, exact, naive = case(shape, dtype)
    buf, C = guarded((M, N), dtype)
    wbuf, work = guarded_work(M, N, K, dtype)
    if accumulate:
        C[:] = bias  # the forward pass pre-fills C with the bias rows
    matmul_nn(C, A, B, accumulate, work, 0, N)
    check_guards(buf, wbuf)
    if accumulate:
        check(C, shape, dtype, exact + bias, naive + bias)
    else:
        check(C, shape, dtype, exact, naive)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_matmul_nt(shape, dtype):
    M, N, K = shape
    A, B, _, exact, naive = case(shape, dtype)
    Bt = np.ascontiguousarray(B.T)  # (N, K): C = A @ Bt.T
    buf, C = guarded((M, N), dtype)
    wbuf, work = guarded_work(M, N, K, dtype)
    matmul_nt(C, A, Bt, work, 0, N)
    check_guards(buf, wbuf)
    check(C, shape, dtype, exact, naive)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_matmul_tn(shape, dtype):
    M, N, K = shape
    A, B, _, exact, naive = case(shape, dtype)
    At = np.ascontiguousarray(A.T)  # (K, M): C = At.T @ B
    buf, C = guarded((M, N), dtype)
    wbuf, work = guarded_work(M, N, K, dtype)
    matmul_tn(C, At, B, work, 0, N)
    check_guards(buf, wbuf)
    check(C, shape, dtype, exact, naive)


@pytest.mark.parametrize("dtype", DTYPES)
def test_work_sized_for_largest_call_serves_all(dtype):
    """One work buffer sized for the maximum dimensions, reused across calls of
    every kernel and shape (as a fit does), stale contents and all."""
    shapes = [s for s in SHAPES if type(s) is tuple]  # not the pytest.param ones
    Mx, Nx, Kx = (max(s[i] for s in shapes) for i in range(3))
    work = np.full(gemm_work_size(Mx, Nx, Kx), np.nan, dtype)
    for shape in shapes + shapes[::-1]:
        M, N, K = shape
        A, B, _, exact, _ = case(shape, dtype)
        for kern, args in (
            (matmul_nn, (A, B, False)),
            (matmul_nt, (A, np.ascontiguousarray(B.T))),
            (matmul_tn, (np.ascontiguousarray(A.T), B)),
        ):
            C = np.full((M, N), np.nan, dtype)
            kern(C, *args, work, 0, N)
            assert_allclose(C, exact, **tol(dtype, K))


def test_gemm_work_size_covers_both_dtypes():
    # Same element count for float32 and float64: panels are rounded up to the
    # float32 panel width, which is twice the float64 one.
    assert gemm_work_size(1, 1, 1) >= 32 + 16
    assert gemm_work_size(128, 784, 512) >= 512 * 800


@pytest.mark.parametrize("dtype", DTYPES)
def test_rows_do_not_depend_on_the_other_rows(dtype):
    """Each row of C is computed by the same fixed sequence of operations
    whatever rows come with it (prediction's row blocks and a batch's row
    chunks rely on it): a block of rows equals the same rows of the whole
    product, bit for bit, for blocks of whole row tiles and ragged ends."""
    M, N, K = 300, 70, 300  # K above one k block (KC = 256)
    A, B, _, _, _ = case((M, N, K), dtype)
    work = np.empty(gemm_work_size(M, N, K), dtype)
    full = np.empty((M, N), dtype)
    matmul_nn(full, A, B, False, work, 0, N)
    for lo, hi in [(0, 64), (64, 72), (72, 300), (8, 299)]:
        part = np.empty((hi - lo, N), dtype)
        matmul_nn(part, np.ascontiguousarray(A[lo:hi]), B, False, work, 0, N)
        assert_array_equal(part, full[lo:hi])


def column_ranges(N, nr):
    """Panel-aligned column ranges covering 0..N-1, of uneven widths (1, 2, 1,
    3 panels, ...) so that ranges start inside the packed/unpacked panel runs,
    as the training loop's layer phases cut a layer into tiles."""
    bounds, j, widths = [0], 0, [1, 2, 1, 3]
    k = 0
    while j < N:
        j = min(N, j + widths[k % len(widths)] * nr)
        bounds.append(j)
        k += 1
    return list(zip(bounds[:-1], bounds[1:]))


# Shapes whose column ranges hit every path: GEMV rows (M < MR), the rank-K
# update (K <= 3), B read in place (few row tiles) and packed (>= 9 tiles),
# several k blocks (K > KC), ragged last panels, half panels (_ukr_half).
RANGE_SHAPES = [
    (5, 100, 37),
    (3, 70, 2),
    (32, 130, 64),
    (50, 40, 3),
    (80, 75, 300),
    (257, 65, 129),
    (9, 33, 1),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", RANGE_SHAPES, ids=str)
def test_column_ranges_equal_the_whole_product_bit_for_bit(shape, dtype):
    """C[:, j0:j1] from a column-range call equals those columns of the whole
    product exactly, and columns outside the range stay untouched: the
    training loop's layer phases split each product into such ranges among
    threads, and the weights must not depend on it."""
    M, N, K = shape
    A, B, _, exact, _ = case(shape, dtype)
    nr = 128 // np.dtype(dtype).itemsize  # one GEMM panel (NR_BYTES)
    work = np.empty(gemm_work_size(max(M, K), max(N, M), max(K, M)), dtype)
    At = np.ascontiguousarray(A.T)
    Bt = np.ascontiguousarray(B.T)
    for name, kern, args in (
        ("nn", matmul_nn, (A, B, False)),
        ("nt", matmul_nt, (A, Bt)),
        ("tn", matmul_tn, (At, B)),
    ):
        full = np.empty((M, N), dtype)
        kern(full, *args, work, 0, N)
        assert_allclose(full, exact, **tol(dtype, K))
        parts = np.full((M, N), np.nan, dtype)
        for j0, j1 in column_ranges(N, nr):
            before = parts.copy()
            kern(parts, *args, work, j0, j1)
            outside = np.ones(N, bool)
            outside[j0:j1] = False
            assert_array_equal(parts[:, outside], before[:, outside], err_msg=name)
        assert_array_equal(parts, full, err_msg=name)
