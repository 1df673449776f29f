"""Thread scaling of fastmlp on W3 (wide) and W1 (small): 1, 2, 4, 8, 16 threads.

    python bench/scaling.py                 # every count up to the core count
    python bench/scaling.py --threads 1 2 4 --scale 0.25 --repeats 3

For each thread count it fits the workload with ``n_jobs=threads`` (median of
``--repeats`` after a warm-up fit that also compiles), and prints a markdown
table: time per fit, speed-up over one thread, parallel efficiency, achieved
GFLOP/s (6 x weights x samples x epochs), OpenBLAS sgemm GFLOP/s at the same
thread count on W3's forward shape, and whether the fitted weights are
bit-identical to the one-thread fit (they must be: every reduction has a fixed
order). Thread counts above Numba's NUMBA_NUM_THREADS are skipped with a note.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numba
import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parent))
from workloads import W1, W3  # noqa: E402

import fastmlp  # noqa: E402


def fit_once(w, X, y, threads):
    est = fastmlp.MLPClassifier(n_jobs=threads, **w.params())
    start = time.perf_counter()
    est.fit(X, y)
    return time.perf_counter() - start, est


def sgemm_gflops(threads, m=128, k=784, n=512, repeats=50):
    a = np.random.default_rng(0).standard_normal((m, k), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((k, n), dtype=np.float32)
    with threadpool_limits(limits=threads, user_api="blas"):
        a @ b
        times = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(repeats):
                a @ b
            times.append((time.perf_counter() - start) / repeats)
    return 2 * m * k * n / np.median(times) / 1e9


def scale_workload(w, scale, repeats, counts):
    X, _, y, _ = w.data(scale)
    flops = 6 * w.n_weights() * X.shape[0] * w.epochs
    rows, base, ref = [], None, None
    for t in counts:
        fit_once(w, X, y, t)  # warm-up (compiles on the first count)
        times, est = [], None
        for _ in range(repeats):
            seconds, est = fit_once(w, X, y, t)
            times.append(seconds)
        med = float(np.median(times))
        coefs = [c.copy() for c in est.coefs_]
        if base is None:
            base, ref = med, coefs
        same = all(np.array_equal(a, b) for a, b in zip(ref, coefs))
        rows.append(
            (
                w.id,
                t,
                med,
                base / med,
                base / med / t,
                flops / med / 1e9,
                sgemm_gflops(t),
                same,
            )
        )
        print(f"  {w.id}: {t} threads, median {med:.3f} s", file=sys.stderr)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of rows")
    parser.add_argument("--workloads", nargs="+", default=["W3", "W1"])
    args = parser.parse_args(argv)

    limit = numba.config.NUMBA_NUM_THREADS
    counts = [t for t in args.threads if t <= limit]
    skipped = [t for t in args.threads if t > limit]
    print(
        f"cores {os.cpu_count()}, NUMBA_NUM_THREADS {limit}, threading layer "
        f"after first fit: see below; repeats {args.repeats}, scale {args.scale}",
        file=sys.stderr,
    )
    rows = []
    for name in args.workloads:
        rows += scale_workload(
            {"W1": W1, "W3": W3}[name], args.scale, args.repeats, counts
        )

    print(f"\nthreading layer: {numba.threading_layer()}; cores: {os.cpu_count()}\n")
    print(
        "| workload | threads | fit s (median) | speed-up | efficiency "
        "| GFLOP/s | sgemm GFLOP/s | weights = 1 thread |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for wid, t, med, sp, eff, gf, sg, same in rows:
        print(
            f"| {wid} | {t} | {med:.3f} | {sp:.2f}x | {eff:.0%} | {gf:.1f} "
            f"| {sg:.1f} | {'yes' if same else 'NO'} |"
        )
    if skipped:
        print(f"\nskipped thread counts above NUMBA_NUM_THREADS={limit}: {skipped}")
    return 0 if all(r[-1] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
