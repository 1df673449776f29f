"""One line before a wait: say when a kernel call is about to compile.

The first call of a compiled kernel for a new combination of argument types
(float32 or float64, dense or CSR input) compiles it, which takes seconds to tens
of seconds and prints nothing. ``notify_compile`` is called right before such a
kernel call; when the call will compile it logs one INFO record on the
``fastmlp`` logger (and prints it when the estimator's ``verbose`` is truthy)::

    fastmlp: compiling training kernels (float64, dense input), about 30 s; once
    per machine and fastmlp version (cached on disk; `python -m fastmlp warmup`
    compiles everything ahead)

(one line). Python's logging shows INFO records only once configured, e.g.
``logging.basicConfig(level=logging.INFO)``; ``python -m fastmlp`` configures the
``fastmlp`` logger itself.

A call compiles when its signature (the Numba types of its arguments) is neither
compiled in this process (``dispatcher.overloads``: a lazily compiling dispatcher
compiles a new specialisation for any new signature, even one whose arguments
would convert to an existing one) nor in the dispatcher's on-disk cache index for
this Numba version, CPU and source. The answer is memoised per dispatcher and
per argument fingerprint (Numba's C ``compute_fingerprint``), so a call that
compiles nothing costs about 3 us for a training call's 13 arguments (8-9 us
measured inside a loop of small fits, where the arguments are not yet in the CPU
cache; the kernel's own dispatch reads them next); the full check (``typeof`` of
every argument, about 150 us, and reading the cache index) runs once per
signature and process.

It never raises. If the types cannot be resolved it says nothing (nothing can be
known); if the on-disk cache cannot be read (a Numba whose cache internals
changed) it logs the notice worded "may need compiling", since a needless line costs less
than an unexplained wait.
"""

import contextlib
import logging
import os
import sys
import threading

import numpy as np

logger = logging.getLogger("fastmlp")

try:  # Numba's fast C fingerprint of a value's type (what its dispatcher uses)
    from numba._dispatcher import compute_fingerprint as _fingerprint
except Exception:  # pragma: no cover - an unusual Numba
    _fingerprint = None

# (id(dispatcher), fingerprint of each argument) already decided in this process;
# the dispatchers themselves are kept alive in _held so that no id is reused.
_decided = set()
# (id(dispatcher), signature) noticed in this process: once per signature.
_noticed = set()
_held = {}
_lock = threading.Lock()

# Cold compile seconds per entry point, measured on the 2-core development VM
# (one kernel alone in a fresh process, empty cache; float64/float32 and dense/
# sparse within a few seconds of each other); the solver passes them as
# notify_compile's estimate. Update them when the kernels change.
COMPILE_SECONDS = {"training": 10, "lbfgs": 10, "prediction": 10, "jacobian": 5,
                   "extended": 5}  # fmt: skip

WHEN_CACHED = (
    "once per machine and fastmlp version (cached on disk; "
    "`python -m fastmlp warmup` compiles everything ahead)"
)
WHEN_CACHE_OFF = "again in every process (the on-disk cache is off: FASTMLP_CACHE=0)"


def notify_compile(dispatcher, args, what, seconds, verbose=False):
    """Log (and, when ``verbose``, print) one line if ``dispatcher(*args)`` will
    compile; return whether it did.

    dispatcher : a Numba dispatcher (an ``njit`` function, e.g. from
        ``fastmlp._jit.kernel``); anything else (``NUMBA_DISABLE_JIT``) is ignored.
    args : the arguments of the call that follows, exactly as they will be passed.
    what : what is compiled, e.g. ``"training kernels (float64, dense input)"``.
    seconds : rough compile time in seconds, said as "about N s".
    verbose : the estimator's ``verbose``; truthy also prints the line to stdout.

    One notice per (dispatcher, signature) per process."""
    key = call_key(dispatcher, args)
    if key is not None and key in _decided:
        return False
    try:
        return _decide(dispatcher, args, what, seconds, verbose, key)
    except Exception:  # never let a notice break a fit
        return False


def call_key(dispatcher, args):
    """The memo key of a call: the dispatcher and Numba's fingerprint of each
    argument's type; None when some argument has no fingerprint."""
    if _fingerprint is None:
        return None
    try:
        return (id(dispatcher), *map(_fingerprint, args))
    except Exception:  # a value Numba cannot fingerprint: decide the slow way
        return None


KINDS = {
    "training": "training kernels",
    "lbfgs": "L-BFGS gradient kernels",
    "prediction": "prediction kernels",
    "jacobian": "jacobian kernels",
    "extended": "elu/gelu/silu/softplus and dropout kernels",
}


def notify_kernels(kind, dispatcher, args, dtype, sparse, verbose=False):
    """notify_compile for one of fastmlp's entry points: ``kind`` a KINDS key,
    the estimate from COMPILE_SECONDS, the text e.g. "training kernels (float64,
    sparse input)", or with ``sparse`` None (a kernel that depends on the dtype
    only) "elu/gelu/silu/softplus and dropout kernels (float32)"."""
    key = call_key(dispatcher, args)
    if key is not None and key in _decided:  # the common case: decided before
        return False
    try:
        what = f"{KINDS[kind]} ({np.dtype(dtype).name}"
        if sparse is not None:
            what += f", {'sparse' if sparse else 'dense'} input"
        what += ")"
        return _decide(dispatcher, args, what, COMPILE_SECONDS[kind], verbose, key)
    except Exception:
        return False


def _decide(dispatcher, args, what, seconds, verbose, key):
    overloads = getattr(dispatcher, "overloads", None)
    if overloads is None:  # not a dispatcher: JIT disabled
        return False
    with _lock:
        if key is not None:
            _held[id(dispatcher)] = dispatcher
            _decided.add(key)
        sig = tuple(dispatcher.typeof_pyval(a) for a in args)
        if sig in overloads:
            return False
        if (id(dispatcher), sig) in _noticed:
            return False
        cached = in_disk_cache(dispatcher, sig)
        if cached:
            return False
        _held[id(dispatcher)] = dispatcher
        _noticed.add((id(dispatcher), sig))
    message = compile_message(what, seconds, cached, _cache_off(dispatcher))
    logger.info(message)
    if verbose:
        print(message, flush=True)
    return True


def _cache_off(dispatcher):
    from numba.core.caching import NullCache

    return isinstance(getattr(dispatcher, "_cache", None), NullCache)


def in_disk_cache(dispatcher, sig):
    """True if ``sig`` is in the dispatcher's on-disk cache (Numba will load it),
    False if not (or there is no cache), None if the cache cannot be read.

    The key is Numba's own (``Cache._index_key``: signature, target CPU and
    features, bytecode hash); the index is read as Numba reads it, so a stale
    index (other source, other Numba version) holds nothing."""
    try:
        cache = dispatcher._cache
        if _cache_off(dispatcher):
            return False
        codegen = dispatcher.targetctx.codegen()
        if hasattr(cache, "in_cache"):  # fastmlp's LayeredCache (_cache.py)
            return bool(cache.in_cache(sig, codegen))
        key = cache._index_key(sig, codegen)
        index = cache._cache_file._load_index()
        name = index.get(key)
        if name is None:
            return False
        return os.path.exists(os.path.join(cache._cache_path, name))
    except Exception:
        return None


def compile_message(what, seconds, cached=False, cache_off=False):
    """The notice's text (one line). ``cached`` is in_disk_cache's answer: None
    (unknown) words it "may need compiling"."""
    how_long = f"about {max(1, round(seconds))} s"
    when = WHEN_CACHE_OFF if cache_off else WHEN_CACHED
    if cached is None:
        return f"fastmlp: {what} may need compiling, {how_long}; {when}"
    return f"fastmlp: compiling {what}, {how_long}; {when}"


class _CliHandler(logging.Handler):
    """Writes bare messages to ``stream``, or to whatever ``sys.stderr`` is at the
    time of the record (so a caller that redirects stderr later still sees them)."""

    _fastmlp_cli = True

    def __init__(self, stream=None):
        super().__init__()
        self.setFormatter(logging.Formatter("%(message)s"))
        self._stream = stream

    def emit(self, record):
        try:
            stream = self._stream if self._stream is not None else sys.stderr
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


def configure_cli_logging(stream=None):
    """Print the ``fastmlp`` logger's INFO records (the notices) as bare lines,
    as ``python -m fastmlp`` does; idempotent. Returns the handler."""
    for handler in logger.handlers:
        if getattr(handler, "_fastmlp_cli", False):
            return handler
    handler = _CliHandler(stream)
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    return handler


@contextlib.contextmanager
def cli_logging(stream=None):
    """configure_cli_logging for the duration of a block (``main()`` called from
    Python leaves the logger as it found it)."""
    level = logger.level
    had = any(getattr(h, "_fastmlp_cli", False) for h in logger.handlers)
    handler = configure_cli_logging(stream)
    try:
        yield handler
    finally:
        if not had:
            logger.removeHandler(handler)
            logger.setLevel(level)
