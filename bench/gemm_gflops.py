"""GFLOP/s of fastmlp's GEMM kernels against NumPy's ``@`` (OpenBLAS), as a markdown table.

Usage::

    .venv/bin/python bench/gemm_gflops.py

fastmlp's GEMMs are serial kernels (training runs a batch's row chunks, and
prediction its row blocks, on separate threads; bench/scaling.py measures that),
so every row compares one of our calls with NumPy under ``threadpool_limits(1)``.
Each number is the median of REPEATS timings, each
timing averaging enough calls to last about TARGET_S, after a warm-up call.
Compile times (first call, per kernel and dtype) are printed below the table;
set FASTMLP_CACHE=0 to measure a cold compile rather than a cache load.
"""

import argparse
import os
import platform
import sys
import time

import numba
import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from fastmlp._kernels.gemm import gemm_work_size, matmul_nn, matmul_nt, matmul_tn

REPEATS = 7
TARGET_S = 0.02

# (label, op, M, N, K): C (M, N), reduction length K.
SHAPES = [
    ("fwd 128x784 . 784x512", "nn", 128, 512, 784),
    ("dH  128x512 . (784x512).T", "nt", 128, 784, 512),
    ("dW  (128x784).T . 128x512", "tn", 784, 512, 128),
    ("fwd 32x100 . 100x100", "nn", 32, 100, 100),
    ("fwd 200x64 . 64x100", "nn", 200, 100, 64),
    ("fwd 200x100 . 100x10", "nn", 200, 10, 100),
    ("dH  200x10 . (100x10).T", "nt", 200, 100, 10),
    ("dW  (200x64).T . 200x100", "tn", 64, 100, 200),
    ("dW  (200x100).T . 200x10", "tn", 100, 10, 200),
    ("fwd 1x784 . 784x512", "nn", 1, 512, 784),
    ("fwd 1x64 . 64x100", "nn", 1, 100, 64),
    ("dH  1x100 . (64x100).T", "nt", 1, 64, 100),
    ("dW  (1x64).T . 1x100", "tn", 64, 100, 1),
]


def operands(rng, op, M, N, K, dtype):
    """Inputs in the layout each kernel takes, and the NumPy expression to compare."""
    if op == "nn":
        A, B = rng.standard_normal((M, K)), rng.standard_normal((K, N))
    elif op == "nt":
        A, B = rng.standard_normal((M, K)), rng.standard_normal((N, K))
    else:
        A, B = rng.standard_normal((K, M)), rng.standard_normal((K, N))
    return A.astype(dtype), B.astype(dtype)


@numba.njit
def _repeat_nn(n, C, A, B, work):
    for _ in range(n):
        matmul_nn(C, A, B, False, work, 0, C.shape[1])


@numba.njit
def _repeat_nt(n, C, A, B, work):
    for _ in range(n):
        matmul_nt(C, A, B, work, 0, C.shape[1])


@numba.njit
def _repeat_tn(n, C, A, B, work):
    for _ in range(n):
        matmul_tn(C, A, B, work, 0, C.shape[1])


REPEAT = {"nn": _repeat_nn, "nt": _repeat_nt, "tn": _repeat_tn}


def ours(op, C, A, B, work):
    """Our kernel, called n times from nopython code as train_epoch calls it
    (a Python-level call would add ~1-2 us of dispatch per call)."""
    rep = REPEAT[op]
    return lambda n=1: rep(n, C, A, B, work)


def reference(op, C, A, B):
    """NumPy's matmul (OpenBLAS sgemm/dgemm; transposes are BLAS flags, no copies)."""
    if op == "nn":
        X, Y = A, B
    elif op == "nt":
        X, Y = A, B.T
    else:
        X, Y = A.T, B

    def run(n=1):
        for _ in range(n):
            np.matmul(X, Y, out=C)

    return run


def seconds_per_call(fn):
    """Median over REPEATS of the mean time of a batch of calls lasting ~TARGET_S."""
    fn()
    t = time.perf_counter()
    fn(10)
    once = max((time.perf_counter() - t) / 10, 1e-8)
    n = max(1, int(TARGET_S / once))
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn(n)
        times.append((time.perf_counter() - t) / n)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()

    rng = np.random.default_rng(0)
    numba.set_num_threads(1)
    work = {}
    compile_s = {}
    rows = []
    for dtype in (np.float32, np.float64):
        work[dtype] = np.empty(gemm_work_size(1024, 1024, 1024), dtype)
        # Compile each kernel for this dtype on a tiny input (both branches).
        for op in ("nn", "nt", "tn"):
            A, B = operands(rng, op, 16, 16, 16, dtype)
            C = np.empty((16, 16), dtype)
            kern = {"nn": matmul_nn, "nt": matmul_nt, "tn": matmul_tn}[op]
            args = (C, A, B, False) if op == "nn" else (C, A, B)
            t = time.perf_counter()
            kern(*args, work[dtype])
            compile_s[(op, np.dtype(dtype).name)] = time.perf_counter() - t
            ours(op, C, A, B, work[dtype])()  # compile the timing loop

    # All of ours first, then all of NumPy's, with a pause in between.
    plan = [(1, "ours"), (1, "numpy")]
    results = {}
    for threads, who in plan:
        numba.set_num_threads(threads)
        time.sleep(0.3)
        for dtype in (np.float32, np.float64):
            for label, op, M, N, K in SHAPES:
                A, B = operands(np.random.default_rng(0), op, M, N, K, dtype)
                C = np.empty((M, N), dtype)
                with threadpool_limits(threads):
                    fn = (
                        ours(op, C, A, B, work[dtype])
                        if who == "ours"
                        else reference(op, C, A, B)
                    )
                    results[(label, np.dtype(dtype).name, threads, who)] = (
                        seconds_per_call(fn)
                    )
    for dtype in (np.float32, np.float64):
        dt = np.dtype(dtype).name
        for threads in sorted({t for t, _ in plan}):
            for label, op, M, N, K in SHAPES:
                if (label, dt, threads, "ours") not in results:
                    continue
                gflop = 2.0 * M * N * K / 1e9
                t_ours = results[(label, dt, threads, "ours")]
                t_np = results[(label, dt, threads, "numpy")]
                rows.append(
                    (label, op, dt, threads, gflop / t_ours, gflop / t_np, t_ours * 1e6)
                )
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)

    blas = [
        (i.get("internal_api"), i.get("version"), i.get("architecture"))
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    print(
        f"# GEMM GFLOP/s ({platform.machine()}, {os.cpu_count()} cpus, "
        f"numba {numba.__version__}, numpy {np.__version__}, BLAS {blas}, "
        f"threading layer {numba.threading_layer()}, "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')})"
    )
    print()
    print(
        "| shape (C = ...) | op | dtype | threads | fastmlp GFLOP/s | numpy GFLOP/s "
        "| ratio | fastmlp us/call |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, op, dt, threads, g_ours, g_np, us in rows:
        print(
            f"| {label} | {op} | {dt} | {threads} | {g_ours:.1f} | {g_np:.1f} | "
            f"{g_ours / g_np:.2f} | {us:.1f} |"
        )
    print()
    print("First-call time (compile or cache load), seconds:")
    print()
    print("| kernel | " + " | ".join(sorted({d for _, d in compile_s})) + " |")
    print("|---|---|---|")
    for op in ("nn", "nt", "tn"):
        print(
            f"| matmul_{op} | "
            + " | ".join(
                f"{compile_s[(op, d)]:.2f}" for d in sorted({d for _, d in compile_s})
            )
            + " |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
