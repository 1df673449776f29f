"""Thread control for the duration of a fit or predict.

Three hazards are handled here, each decided per call and never changing a bit of
the result (every kernel is bit-identical for any thread count and for its serial
branch):

- Oversubscription. ``n_jobs=None`` uses Numba's thread limit, which joblib's loky
  workers already lower (they start with ``NUMBA_NUM_THREADS`` = cores // n_jobs);
  it is further capped by ``OMP_NUM_THREADS`` when that is set (Dask's nanny sets
  it to 1 in its worker processes) and shared between the fits running at the same
  time in one process (joblib's threading backend, a ThreadPoolExecutor).
- GNU OpenMP after fork. Numba's OpenMP layer kills a forked child that enters a
  parallel region once the parent has loaded the layer (which importing fastmlp
  does); in such a child every kernel takes its serial branch.
- The workqueue layer, which aborts the process when two threads enter parallel
  regions at once. Under it only one call at a time runs parallel kernels; calls
  that start while another holds the layer run serially.
"""

import os
import threading
from contextlib import contextmanager

import numba
from threadpoolctl import ThreadpoolController

from . import _jit

_state = threading.local()  # depth: nesting of numba_threads; parallel: allowed
_active_lock = threading.Lock()
_active_calls = 0  # outermost numba_threads blocks running now, all threads
_workqueue_lock = threading.Lock()


def env_thread_cap():
    """``OMP_NUM_THREADS`` as a positive int, or None when unset or not one."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    try:
        cap = int(value.split(",")[0])
    except ValueError:
        return None
    return cap if cap >= 1 else None


def resolve_n_jobs(n_jobs, concurrent=1):
    """Threads to use for ``n_jobs``.

    None: Numba's thread limit (``NUMBA_NUM_THREADS``, lowered by joblib in its
    workers), capped by ``OMP_NUM_THREADS`` if set, divided among ``concurrent``
    calls running at once. -1: every Numba thread; -2: all cores but one, and so on.
    Always clipped to [1, NUMBA_NUM_THREADS], the most Numba can use here."""
    limit = numba.config.NUMBA_NUM_THREADS
    if n_jobs is None:
        cap = env_thread_cap()
        n = limit if cap is None else min(limit, cap)
        return max(1, n // max(1, concurrent))
    n_jobs = int(n_jobs)
    if n_jobs < 0:
        n_jobs = (os.cpu_count() or 1) + 1 + n_jobs
    return max(1, min(n_jobs, limit))


def forked_from_openmp():
    """True in a process forked from one that loaded Numba's OpenMP layer: a
    parallel region there would terminate the process."""
    return _jit.THREADING_LAYER == "omp" and os.getpid() != _jit.LAUNCH_PID


def parallel_allowed():
    """Whether the calling thread may run parallel kernels now (inside
    ``numba_threads``; outside it, the answer for a call made now)."""
    allowed = getattr(_state, "parallel", None)
    if allowed is not None:
        return allowed
    return not forked_from_openmp() and _jit.THREADING_LAYER != "workqueue"


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
    18 ms once BLAS was held to one thread.

    Nested blocks (a fit's validation predict) keep the outer block's decisions.
    The outermost block also decides ``parallel_allowed()`` (see the module
    docstring)."""
    global _active_calls
    depth = getattr(_state, "depth", 0)
    if depth:
        _state.depth = depth + 1
        try:
            yield
        finally:
            _state.depth = depth
        return

    holds_workqueue = False
    if forked_from_openmp():
        parallel = False
    elif _jit.THREADING_LAYER == "workqueue":
        holds_workqueue = parallel = _workqueue_lock.acquire(blocking=False)
    else:
        parallel = True
    with _active_lock:
        _active_calls += 1
        concurrent = _active_calls
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(resolve_n_jobs(n_jobs, concurrent))
        _state.depth, _state.parallel = 1, parallel
        with _blas_controller().limit(limits=1, user_api="blas"):
            yield
    finally:
        _state.depth, _state.parallel = 0, None
        numba.set_num_threads(previous)
        with _active_lock:
            _active_calls -= 1
        if holds_workqueue:
            _workqueue_lock.release()
