"""Thread control for the duration of a fit or predict."""

import os
from contextlib import contextmanager

import numba
from threadpoolctl import ThreadpoolController


def resolve_n_jobs(n_jobs):
    """Threads to use for ``n_jobs`` (None/-1: all Numba threads; -2: all but one).

    Clipped to [1, NUMBA_NUM_THREADS], the most Numba can use in this process."""
    limit = numba.config.NUMBA_NUM_THREADS
    if n_jobs is None:
        return limit
    n_jobs = int(n_jobs)
    if n_jobs < 0:
        n_jobs = (os.cpu_count() or 1) + 1 + n_jobs
    return max(1, min(n_jobs, limit))


_controller = None


def _blas_controller():
    """One ThreadpoolController per process, made on first use: threadpool_limits()
    re-inspects every loaded library on each call (0.77 ms here, against 0.014 ms
    through a kept controller), which a small predict would pay every time. BLAS
    libraries loaded after the first fit are not seen."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller


@contextmanager
def numba_threads(n_jobs):
    """Set Numba's thread count for the calling thread and hold BLAS to one
    thread; restore both on exit, whatever happens.

    fastmlp's kernels do their own threading. A BLAS pool woken by NumPy calls
    before the fit (or by SciPy's L-BFGS) otherwise competes with Numba's for the
    cores: on the 2-core machine a W1 epoch took 29 ms with 2 Numba threads and
    18 ms once BLAS was held to one thread."""
    previous = numba.get_num_threads()
    numba.set_num_threads(resolve_n_jobs(n_jobs))
    try:
        with _blas_controller().limit(limits=1, user_api="blas"):
            yield
    finally:
        numba.set_num_threads(previous)
