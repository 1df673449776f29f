"""Thread scaling of fastmlp on W1, W2 and W3, and its behaviour beside a busy core.

    python bench/scaling.py                       # 1, 2, 4, ... up to the core count
    python bench/scaling.py --threads 1 2 4 8 16 32 64 --oversubscribe
    python bench/scaling.py --busy                # one CPU-bound process beside the fits
    python bench/scaling.py --threads 1 2 --scale 0.25 --repeats 3 --workloads W3

Scaling table: for each thread count it fits the workload with
``n_jobs=threads`` (median of ``--repeats`` after a warm-up fit that also
compiles) and prints time per fit and per epoch, speed-up over one thread,
parallel efficiency, achieved GFLOP/s (6 x weights x samples x epochs),
OpenBLAS sgemm GFLOP/s at the same thread count on W3's forward shape, and
whether the fitted weights are bit-identical to the one-thread fit (they must
be: which thread computes an element never changes how). Counts above the
machine's cores are left out unless ``--oversubscribe`` is given, which
re-runs this script with NUMBA_NUM_THREADS raised to the largest count
(threads then share cores: a test of correctness and of the tuner, not of
speed).

Busy mode (``--busy [N]``): N processes spinning ``while True: pass`` run
beside the fits (as on a laptop or a shared CI runner) and fastmlp's default
``n_jobs`` is timed against ``n_jobs=1``, interleaved, in the same process;
the quiet ratio is measured first in the same run, before the spinners start.
The goal (issue 13): default <= 1.15x ``n_jobs=1`` with one busy core on two.
"""

import argparse
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numba
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parent))
from workloads import W1, W2, W3  # noqa: E402

import fastmlp  # noqa: E402

WORKLOADS = {"W1": W1, "W2": W2, "W3": W3}
# W3 at full size takes ~1 minute per one-thread fit on a 2-core machine:
# there it runs on a quarter of its rows unless --scale says otherwise.
DEFAULT_SCALE = {"W1": 1.0, "W2": 1.0, "W3": 1.0 if os.cpu_count() >= 8 else 0.25}


def estimator(w, n_jobs):
    cls = fastmlp.MLPClassifier if w.task == "clf" else fastmlp.MLPRegressor
    return cls(n_jobs=n_jobs, **w.params())


def fit_once(w, X, y, n_jobs):
    est = estimator(w, n_jobs)
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


def workload_data(name, scale):
    w = WORKLOADS[name]
    X, _, y, _ = w.data(DEFAULT_SCALE[name] if scale is None else scale)
    return w, X, y


def scale_workload(name, scale, repeats, counts, sgemm):
    w, X, y = workload_data(name, scale)
    flops = 6 * w.n_weights() * X.shape[0] * w.epochs
    rows, base, ref = [], None, None
    for t in counts:
        fit_once(w, X, y, t)  # warm-up (compiles on the first count)
        times, est = [], None
        for _ in range(repeats):
            seconds, est = fit_once(w, X, y, t)
            times.append(seconds)
        med = float(np.median(times))
        coefs = [c.copy() for c in est.coefs_ + est.intercepts_]
        if base is None:
            base, ref = med, coefs
        same = all(np.array_equal(a, b) for a, b in zip(ref, coefs))
        rows.append(
            (
                w.id,
                X.shape[0],
                t,
                med,
                med / est.n_iter_,
                base / med,
                base / med / t,
                flops / med / 1e9,
                sgemm[t],
                same,
            )
        )
        print(f"  {w.id}: {t} threads, median {med:.3f} s", file=sys.stderr)
    return rows


def print_scaling(rows, skipped, limit):
    print(f"\nthreading layer: {numba.threading_layer()}; cores: {os.cpu_count()}\n")
    print(
        "| workload | rows | threads | fit s (median) | s/epoch | speed-up "
        "| efficiency | GFLOP/s | sgemm GFLOP/s | weights = 1 thread |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for wid, n, t, med, ep, sp, eff, gf, sg, same in rows:
        print(
            f"| {wid} | {n} | {t} | {med:.3f} | {ep:.4f} | {sp:.2f}x | {eff:.0%} "
            f"| {gf:.1f} | {sg:.1f} | {'yes' if same else 'NO'} |"
        )
    if skipped:
        print(
            f"\nleft out: thread counts {skipped} (above the {os.cpu_count()} cores "
            f"or NUMBA_NUM_THREADS={limit}; --oversubscribe runs them)"
        )


def interleaved(w, X, y, repeats):
    """Median seconds of default n_jobs and of n_jobs=1, alternating order."""
    times = {None: [], 1: []}
    for n_jobs in (None, 1):
        fit_once(w, X, y, n_jobs)  # warm-up
    for r in range(repeats):
        for n_jobs in (None, 1) if r % 2 == 0 else (1, None):
            times[n_jobs].append(fit_once(w, X, y, n_jobs)[0])
    return float(np.median(times[None])), float(np.median(times[1]))


def busy_mode(names, scale, repeats, spinners):
    data = [workload_data(name, scale) for name in names]
    rows = []
    for w, X, y in data:
        rows.append([w.id, X.shape[0], *interleaved(w, X, y, repeats)])
        print(f"  {w.id}: quiet done", file=sys.stderr)
    hogs = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(spinners)
    ]
    try:
        for row, (w, X, y) in zip(rows, data):
            row += interleaved(w, X, y, repeats)
            print(f"  {w.id}: busy done", file=sys.stderr)
    finally:
        for hog in hogs:
            hog.kill()
    print(
        f"\nthreading layer: {numba.threading_layer()}; cores: {os.cpu_count()}; "
        f"busy: {spinners} spinning process(es); medians of {repeats}, interleaved\n"
    )
    print(
        "| workload | rows | quiet default s | quiet n_jobs=1 s | quiet ratio "
        "| busy default s | busy n_jobs=1 s | busy ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for wid, n, qd, q1, bd, b1 in rows:
        print(
            f"| {wid} | {n} | {qd:.3f} | {q1:.3f} | {qd / q1:.2f} "
            f"| {bd:.3f} | {b1:.3f} | {bd / b1:.2f} |"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+")
    parser.add_argument("--oversubscribe", action="store_true")
    parser.add_argument("--busy", type=int, nargs="?", const=1, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--scale",
        type=float,
        help="fraction of rows (default 1; W3 0.25 below 8 cores)",
    )
    parser.add_argument("--workloads", nargs="+", default=["W1", "W2", "W3"])
    args = parser.parse_args(argv)
    # The workloads run a fixed number of epochs (tol=0), short of convergence.
    warnings.simplefilter("ignore", ConvergenceWarning)

    if args.busy:
        busy_mode(args.workloads, args.scale, args.repeats, args.busy)
        return 0
    cores = os.cpu_count()
    wanted = args.threads or [t for t in (1, 2, 4, 8, 16, 32, 64) if t <= cores]
    limit = numba.config.NUMBA_NUM_THREADS
    if args.oversubscribe and max(wanted) > limit:
        env = dict(os.environ, NUMBA_NUM_THREADS=str(max(wanted)))
        return subprocess.call([sys.executable, __file__, *sys.argv[1:]], env=env)
    top = limit if args.oversubscribe else min(cores, limit)
    counts = [t for t in wanted if t <= top]
    skipped = [t for t in wanted if t > top]
    print(
        f"cores {cores}, NUMBA_NUM_THREADS {limit}, repeats {args.repeats}",
        file=sys.stderr,
    )
    sgemm = {t: sgemm_gflops(t) for t in counts}  # once per count, not per workload
    rows = []
    for name in args.workloads:
        rows += scale_workload(name, args.scale, args.repeats, counts, sgemm)
    print_scaling(rows, skipped, limit)
    return 0 if all(r[-1] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
