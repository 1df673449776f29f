"""The on-disk kernel cache: parallel kernels load from it safely, and an edit to
any kernel source empties it (Numba alone would keep a caller's stale copy of an
edited callee from another file). Failure modes are in test_cache_faults.py."""

import hashlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from fastmlp import MLPClassifier, _cache, _jit

FIT = """
import warnings
import numpy as np
from sklearn.exceptions import ConvergenceWarning
warnings.simplefilter("ignore", ConvergenceWarning)
from fastmlp import MLPClassifier
rng = np.random.default_rng(0)
X = rng.standard_normal((300, 12)).astype(np.float32)
y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
est = MLPClassifier((16,), max_iter=3, batch_size=64, n_jobs=2,
                    random_state=0).fit(X, y)
"""


def _python_output(script, cache_home=None):
    """The words ``script`` prints, run by a new interpreter with the JIT on;
    with ``cache_home``, the per-user kernel cache lives there."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_DISABLE_JIT"}
    if cache_home is not None:
        env.pop("NUMBA_CACHE_DIR", None)
        env["XDG_CACHE_HOME"] = str(cache_home)
    return subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    ).stdout.split()


def test_stale_cache_is_emptied_once_and_only_on_change(tmp_path, monkeypatch):
    monkeypatch.setattr(_cache, "_fresh_folders", set())
    names = (
        "network.train_epochs-231.py311.nbi",
        "gemm._tiles-600.py311.1.nbc",
        "gemm._tiles-600.py311.nbm",
        "gemm._tiles-600.py311.nbi.tmp.0123456789abcdef",
    )
    for name in names:
        (tmp_path / name).write_text("x")
    (tmp_path / "other.pyc").write_text("x")
    (tmp_path / _cache._STAMP_FILE).write_text("stamp of older sources")

    _cache._drop_stale(tmp_path)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([_cache._STAMP_FILE, "other.pyc"])
    assert (tmp_path / _cache._STAMP_FILE).read_text() == _cache._sources_stamp()

    # Sources unchanged: a new process (fresh checked set) keeps what it finds.
    monkeypatch.setattr(_cache, "_fresh_folders", set())
    (tmp_path / "a.nbi").write_text("x")
    _cache._drop_stale(tmp_path)
    assert (tmp_path / "a.nbi").exists()


def test_sources_stamp_covers_every_kernel_file():
    from pathlib import Path

    import numba

    here = Path(_jit.__file__).parent
    digest = hashlib.sha1(numba.__version__.encode())
    for path in [here / "_jit.py", *sorted((here / "_kernels").glob("*.py"))]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    assert _cache._sources_stamp() == digest.hexdigest()
    assert len(list((here / "_kernels").glob("*.py"))) >= 8


@pytest.mark.skipif(not _jit.CACHE or _jit.JIT_DISABLED, reason="cache off")
def test_parallel_kernels_load_from_cache_in_a_fresh_process():
    """The session's warm-up filled the cache; a new interpreter must load the
    parallel training kernels from it (no compile) and train the same weights."""
    ns = {}
    exec(FIT, ns)
    expected = hashlib.sha1(b"".join(c.tobytes() for c in ns["est"].coefs_))

    script = FIT + textwrap.dedent(
        """
        import hashlib
        from fastmlp._kernels import network
        print(sum(network.train_epochs.stats.cache_hits.values()),
              sum(network.train_epochs.stats.cache_misses.values()),
              hashlib.sha1(b"".join(c.tobytes() for c in est.coefs_)).hexdigest())
        """
    )
    out = _python_output(script)
    hits, misses, digest = int(out[0]), int(out[1]), out[2]
    assert (hits, misses) == (1, 0)
    assert digest == expected.hexdigest()
    assert np.isfinite(ns["est"].loss_)
    assert isinstance(ns["est"], MLPClassifier)


FRESH_VS_CACHED = """
import hashlib, warnings
import numpy as np
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
warnings.simplefilter("ignore", ConvergenceWarning)
from fastmlp import MLPClassifier, MLPRegressor
from fastmlp._kernels import network
X, y = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X)
fits = [
    MLPClassifier(solver="sgd", max_iter=30, n_jobs=1, random_state=0).fit(X, y),
    MLPClassifier(solver="sgd", activation="tanh", max_iter=30, random_state=0).fit(X, y),
    MLPClassifier(max_iter=30, random_state=0).fit(X, y),
    MLPRegressor(solver="sgd", max_iter=30, random_state=0).fit(X[:, 1:], X[:, 0]),
]
print(sum(network.train_epochs.stats.cache_hits.values()),
      *[hashlib.sha1(b"".join(a.tobytes() for a in m.coefs_ + m.intercepts_)).hexdigest()
        for m in fits])
"""


def test_fresh_compile_and_cache_load_train_the_same_bits(tmp_path):
    """The process that compiles the kernels and every later one that loads them
    from the cache train bit-identical weights. (A kernel called from run_task
    exists twice once compiled, on its own and linked into run_task, and the two
    copies were optimised differently: the compiling process ran one and later
    processes the other, and SGD fits differed in the last bits.)"""
    # An empty per-user cache of its own: the first run compiles, the second loads.
    runs = [_python_output(FRESH_VS_CACHED, cache_home=tmp_path) for _ in range(2)]
    (hits_fresh, *fresh), (hits_cached, *cached) = runs
    assert int(hits_fresh) == 0 and int(hits_cached) > 0  # compiled, then loaded
    assert cached == fresh
