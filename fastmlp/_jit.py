"""Every Numba option fastmlp uses, in one place.

Kernels never call ``numba.njit`` themselves; they are wrapped by one of the
decorators below so that fastmath, caching and the error model are set once.

Environment variables (read here and in ``_cache``, nowhere else):

``FASTMLP_CACHE``
    ``"0"`` disables the on-disk cache for all kernels (default on). Cached
    kernels get ``_cache.LayeredCache`` rather than Numba's own cache: entries
    are looked up in ``$NUMBA_CACHE_DIR`` or the per-user cache, then in the
    installed package; they are checksummed, saved under a lock, and emptied
    whenever any kernel source file changes (see ``_cache`` for the details and
    its own variables, ``NUMBA_CACHE_DIR``, ``XDG_CACHE_HOME`` and
    ``FASTMLP_CACHE_SYSTEM``).
``NUMBA_DISABLE_JIT``
    Numba's own switch; with it set every kernel runs as plain Python, which is
    slow but lets coverage see kernel code.
"""

import os

import numba
from numba import config, njit
from numba.core.dispatcher import Dispatcher

from . import _cache

# Never "nnan"/"ninf": the solver relies on isfinite() to detect divergence.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

CACHE = os.environ.get("FASTMLP_CACHE", "1") != "0"

JIT_DISABLED = bool(config.DISABLE_JIT)

# Serial kernels run without Numba's reference-counting runtime (NRT): none
# allocates, and every view they take (a layer's block of a buffer, a row, a
# chunk's rows) would otherwise cost an atomic increment and decrement of its
# parent's count. On W4 (batch 1, 16-32-1) those took 57% of the fit: 0.052 s
# with NRT, 0.020 s without. A kernel that tried to allocate fails to compile
# ("NRT required"); one that returns a view it made is refused at typing, so
# such helpers are inlined (inline_kernel, overload_kernel(inline=True)), and
# their views live in the caller's frame. Not an environment switch: Numba's
# cache index does not record the flag, so a cache written with one setting
# would be loaded under the other.
NRT = False


def _njit(**options):
    """``numba.njit(**options)``; with ``cache=True`` the dispatcher gets fastmlp's
    layered, checksummed cache instead of Numba's (``_cache.attach``)."""
    cache = options.pop("cache", False)

    def decorate(fn):
        dispatcher = njit(**options)(fn)
        if cache and isinstance(dispatcher, Dispatcher):
            _cache.attach(dispatcher)
        return dispatcher

    return decorate


def kernel(fn):
    """Serial leaf kernel: compiled lazily, cached on disk when CACHE is on."""
    return _njit(
        fastmath=FASTMATH, error_model="numpy", nogil=True, _nrt=NRT, cache=CACHE
    )(fn)


def strict_kernel(fn):
    """Serial kernel without fastmath, for bookkeeping that must run exactly as
    written (comparisons, sums in index order), cached like ``kernel``."""
    return _njit(error_model="numpy", nogil=True, _nrt=NRT, cache=CACHE)(fn)


def inline_kernel(fn):
    """Small function inlined into its callers at Numba-IR level (so their loops
    can vectorise through it); it runs under the caller's fastmath flags."""
    return njit(fastmath=FASTMATH, error_model="numpy", nogil=True, inline="always")(fn)


def parallel_kernel(fn):
    """Kernel with ``prange`` loops, cached on disk like the serial kernels.

    A cached parallel function (or a cached caller of one) segfaulted when it was
    loaded before Numba's threading layer had registered its symbols
    (anchors-measured.md); ``launch_threading_layer()`` at import of this module
    does that registration first, so loading from the cache is safe."""
    return _njit(
        parallel=True, fastmath=FASTMATH, error_model="numpy", nogil=True, cache=CACHE
    )(fn)


def overload_kernel(stub, inline=False):
    """``numba.extending.overload`` with the kernels' options: compile-time dispatch
    on argument types (e.g. a dense or a CSR input layer) in nopython code.
    ``inline``: inlined at Numba-IR level, as ``inline_kernel`` (needed where the
    implementation returns a view: see NRT)."""
    from numba.extending import overload

    options = {"fastmath": FASTMATH, "error_model": "numpy"}
    if inline:
        options["_nrt"] = True
    return overload(stub, jit_options=options, inline="always" if inline else "never")


# Set by launch_threading_layer: the layer's name ("omp", "tbb", "workqueue") and
# the process that loaded it. Numba's GNU OpenMP layer records that pid too, and
# terminates any process forked from it that enters a parallel region
# (_threads.parallel_allowed runs the serial branches there instead).
THREADING_LAYER = None
LAUNCH_PID = None


def launch_threading_layer():
    """Load Numba's threading layer and register its symbols (idempotent, ~25 ms).

    Numba does this itself when it *compiles* a parallel function, but not when it
    loads one from the on-disk cache; a cached parallel kernel then calls into
    unresolved symbols. Loading the layer starts no threads, but with GNU OpenMP
    a process forked after this point is killed ("Terminating: fork() called from
    a process already using GNU OpenMP") as soon as it enters a parallel region,
    whether or not the parent ever ran one; fastmlp's kernels take their serial
    branches in such a child (``_threads.parallel_allowed``)."""
    global THREADING_LAYER, LAUNCH_PID
    if not JIT_DISABLED:
        from numba.np.ufunc.parallel import _launch_threads

        _launch_threads()
        THREADING_LAYER = numba.threading_layer()
        LAUNCH_PID = os.getpid()


launch_threading_layer()
