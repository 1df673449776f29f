"""Compile (or load from the on-disk cache) every kernel any fit, predict or
jacobian can use, ahead of the first real call.

Kernels compile once per combination of argument types: the dtype (float32 or
float64; ``lbfgs`` always works in float64) and the input (dense, or CSR for any
scipy sparse matrix), for each kernel called from Python: training epochs
(``sgd``/``adam``, ``fit`` and ``partial_fit``), the L-BFGS loss and gradient,
prediction (``predict``, ``predict_proba``, ``score``, the validation score of
``early_stopping``) and the input Jacobian. Activations, losses, solvers and
output layers are runtime codes inside the kernels, so one tiny call of each kind
per dtype and input compiles everything, plus one fit with gelu and dropout per
dtype for the kernel of extended.py (compiled only for networks that use it).

The work is split into GROUPS (one per dtype and input). ``warmup()`` runs them in
this process, one after the other; ``warmup(jobs=N)`` (what ``python -m fastmlp
warmup`` calls) runs them in N worker processes started with the ``spawn`` method
(Numba's GNU OpenMP layer does not survive ``fork``), each with one kernel thread.
"""

import contextlib
import os
import time
import warnings

import numpy as np

# (label, dtype, sparse input), longest first so that workers finish close
# together (cold, one after the other on the 2-core development VM: 46, 35, 32
# and 31 s; the float64 groups also compile the L-BFGS kernel).
GROUPS = (
    ("float64 sparse", "float64", True),
    ("float32 sparse", "float32", True),
    ("float64 dense", "float64", False),
    ("float32 dense", "float32", False),
)

# The kernels fastmlp calls from Python (module of fastmlp._kernels, name): every
# other kernel is compiled into one of these. Names missing after a restructure
# are skipped by entry_points(); tests check the list is not empty.
ENTRY_POINTS = (
    ("network", "train_epochs"),
    ("network", "run_task"),
    ("jacobian", "input_jacobian"),
    ("jacobian", "jacobian_block"),
    ("extended", "extended_forward"),
)

# Environment of a worker process: one kernel (and BLAS) thread each, since the
# workers themselves fill the cores.
WORKER_ENV = {
    "NUMBA_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def entry_points():
    """{"module.name": dispatcher} of the ENTRY_POINTS that exist (imports the
    kernels)."""
    import importlib

    found = {}
    for module, name in ENTRY_POINTS:
        try:
            mod = importlib.import_module(f"fastmlp._kernels.{module}")
        except ImportError:
            continue
        dispatcher = getattr(mod, name, None)
        if hasattr(dispatcher, "stats"):
            found[f"{module}.{name}"] = dispatcher
    return found


def _cache_hits():
    """Signatures of the entry points loaded from the on-disk cache, this process."""
    return sum(sum(d.stats.cache_hits.values()) for d in entry_points().values())


@contextlib.contextmanager
def _count_compiles():
    """Count the compiles started from Python (not those nested in another
    compile) inside the block: {"compiled": n, "compile_seconds": s}."""
    from numba.core import event

    counts = {"compiled": 0, "compile_seconds": 0.0}
    depth = [0, 0.0]

    class Listener(event.Listener):
        def on_start(self, ev):
            if depth[0] == 0:
                depth[1] = time.perf_counter()
            depth[0] += 1

        def on_end(self, ev):
            depth[0] -= 1
            if depth[0] == 0:
                counts["compiled"] += 1
                counts["compile_seconds"] += time.perf_counter() - depth[1]

    with event.install_listener("numba:compile", Listener()):
        yield counts


def _data(dtype, sparse):
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    # 80 rows: batch_size=64 takes the split-batch branch, the default batch
    # the whole-batch one; early_stopping's validation split has 8 rows.
    X = rng.standard_normal((80, 3)).astype(dtype)
    y = np.arange(80) % 3
    y_reg = X[:, 0] - X[:, 1]
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0).astype(dtype))
    return X, y, y_reg


def run_group(label):
    """Run the tiny public-API calls of one group (a GROUPS label) in this
    process; returns {"group", "seconds", "compiled", "compile_seconds",
    "loaded"}: kernel signatures compiled (called from Python, callees not
    counted) and entry-point signatures loaded from the on-disk cache here."""
    from sklearn.exceptions import ConvergenceWarning

    from ._estimators import MLPClassifier, MLPRegressor

    _, dtype, sparse = next(g for g in GROUPS if g[0] == label)
    X, y, y_reg = _data(dtype, sparse)
    hits0 = _cache_hits()
    start = time.perf_counter()
    small = dict(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    with warnings.catch_warnings(), _count_compiles() as counts:
        warnings.simplefilter("ignore", ConvergenceWarning)
        _ignore_numba_performance_warnings()
        for solver, batch_size in (("sgd", 64), ("adam", "auto")):
            clf = MLPClassifier(solver=solver, batch_size=batch_size, **small)
            clf.fit(X, y)
            clf.predict(X)
            clf.predict_proba(X)
            clf.score(X, y)
            clf.jacobian(X[:2])
            reg = MLPRegressor(solver=solver, batch_size=batch_size, **small)
            reg.fit(X, y_reg)
            reg.score(X, y_reg)
            reg.jacobian(X[:2])
        MLPClassifier(early_stopping=True, **small).fit(X, y)
        MLPRegressor(early_stopping=True, **small).fit(X, y_reg)
        MLPClassifier(**small).partial_fit(X, y, classes=[0, 1, 2])
        MLPRegressor(**small).partial_fit(X, y_reg)
        if not sparse:  # extended.py's kernel (per dtype): gelu .. softplus, dropout
            MLPRegressor(activation="gelu", dropout=0.1, **small).fit(X, y_reg)
        if dtype == "float64":  # lbfgs casts any input to float64
            clf = MLPClassifier(solver="lbfgs", **small).fit(X, y)
            clf.predict_proba(X)
            reg = MLPRegressor(solver="lbfgs", **small).fit(X, y_reg)
            reg.jacobian(X[:2])
    seconds = time.perf_counter() - start
    return {
        "group": label,
        "seconds": seconds,
        **counts,
        "loaded": _cache_hits() - hits0,
    }


def _ignore_numba_performance_warnings():
    from numba.core.errors import NumbaPerformanceWarning

    warnings.simplefilter("ignore", NumbaPerformanceWarning)


def warmup(dtypes=(np.float32, np.float64), sparse=True, jobs=None, report=None):
    """Compile (or load from the on-disk cache) the kernels of every fit, predict,
    score and jacobian for ``dtypes``, dense and (``sparse=True``) CSR input.

    ``jobs=None`` or 1 runs the groups in this process (a test session, a worker
    that is about to fit); ``jobs=N`` runs them in N spawned worker processes and
    leaves this process as it was. ``report(done, total, result)`` is called as
    each group finishes (``result`` as run_group returns). Returns the results
    in the order the groups finished."""
    names = {np.dtype(d).name for d in dtypes}
    labels = [g[0] for g in GROUPS if g[1] in names and (sparse or not g[2])]
    results = []
    if jobs is None or jobs <= 1 or len(labels) <= 1:
        for label in labels:
            results.append(run_group(label))
            if report is not None:
                report(len(results), len(labels), results[-1])
        return results
    for result in _run_in_workers(labels, jobs):
        results.append(result)
        if report is not None:
            report(len(results), len(labels), result)
    return results


def _run_in_workers(labels, jobs):
    """Yield run_group(label) results from ``jobs`` spawned workers as they finish."""
    import concurrent.futures as cf
    import multiprocessing

    jobs = min(jobs, len(labels)) if _can_lock() else 1
    ctx = multiprocessing.get_context("spawn")
    # Every worker imports the kernels before any worker compiles and saves
    # (a first save may empty a stale cache folder, _cache.py).
    barrier = ctx.Barrier(jobs)
    with cf.ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(barrier,),
    ) as pool:
        # The workers are spawned by submit() and inherit this environment.
        with _environ(WORKER_ENV):
            futures = [pool.submit(run_group, label) for label in labels]
        try:
            for future in cf.as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


@contextlib.contextmanager
def _environ(values):
    """os.environ updated with ``values`` inside the block (the spawned workers
    inherit it), restored afterwards."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _init_worker(barrier):
    os.environ.update(WORKER_ENV)  # in case the spawned parent module imported numba
    _ignore_numba_performance_warnings()
    from . import _estimators  # noqa: F401  (imports every kernel module)

    try:
        barrier.wait(timeout=300)
    except Exception:  # a worker that never started: carry on without it
        pass


def _can_lock():
    try:
        import fcntl  # noqa: F401
    except ImportError:  # pragma: no cover - not POSIX: one worker, no race
        return False
    return True


def default_jobs():
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
