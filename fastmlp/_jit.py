"""Every Numba option fastmlp uses, in one place.

Kernels never call ``numba.njit`` themselves; they are wrapped by one of the
decorators below so that fastmath, caching and the error model are set once.

Environment variables (read here and nowhere else):

``FASTMLP_CACHE``
    ``"0"`` disables Numba's on-disk cache for the serial kernels (default on).
``NUMBA_DISABLE_JIT``
    Numba's own switch; with it set every kernel runs as plain Python, which is
    slow but lets coverage see kernel code.
"""

import os

from numba import config, njit

# Never "nnan"/"ninf": the solver relies on isfinite() to detect divergence.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

CACHE = os.environ.get("FASTMLP_CACHE", "1") != "0"

JIT_DISABLED = bool(config.DISABLE_JIT)


def kernel(fn):
    """Serial leaf kernel: compiled lazily, cached on disk when CACHE is on."""
    return njit(fastmath=FASTMATH, error_model="numpy", nogil=True, cache=CACHE)(fn)


def inline_kernel(fn):
    """Small function inlined into its callers at Numba-IR level (so their loops
    can vectorise through it); it runs under the caller's fastmath flags."""
    return njit(fastmath=FASTMATH, error_model="numpy", nogil=True, inline="always")(fn)


def parallel_kernel(fn):
    """Kernel with ``prange`` loops. Not cached: numba#4807 / #10128, and a cached
    caller of a parallel function has crashed here (anchors-measured.md)."""
    return njit(
        parallel=True, fastmath=FASTMATH, error_model="numpy", nogil=True, cache=False
    )(fn)


def composite_kernel(fn):
    """Serial kernel that calls parallel kernels (e.g. ``train_epoch``).

    Numba stores callees inside the caller's cache entry, so a caller of a
    parallel kernel is left uncached like the parallel kernel itself."""
    return njit(fastmath=FASTMATH, error_model="numpy", nogil=True, cache=False)(fn)


def overload_kernel(stub):
    """``numba.extending.overload`` with the kernels' options: compile-time dispatch
    on argument types (e.g. a dense or a CSR input layer) in nopython code."""
    from numba.extending import overload

    return overload(stub, jit_options={"fastmath": FASTMATH, "error_model": "numpy"})
