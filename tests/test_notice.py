"""fastmlp._notice: one line before a call that compiles, none otherwise."""

import json
import logging
import os
import subprocess
import sys
import textwrap
import time
from collections import namedtuple

import numpy as np
import pytest
from numba import njit

from fastmlp import _jit, _notice
from fastmlp._notice import compile_message, notify_compile

# A toy kernel in a module of its own: Numba caches only functions that live in
# a source file.
TOY = """
from fastmlp._jit import kernel


@kernel
def toy(x, y):
    return x.sum() + y
"""

# One process: notice, call, notice again (nothing), a new signature (notice).
CHILD = r"""
import json, logging, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
logging.basicConfig(level=logging.INFO, format="LOG %(name)s %(message)s",
                    stream=sys.stderr)
from fastmlp._notice import notify_compile
from toy_kernels import toy

x = np.ones(3)
said = [notify_compile(toy, (x, 1.0), "toy kernels (float64)", 7)]
toy(x, 1.0)
said.append(notify_compile(toy, (x, 1.0), "toy kernels (float64)", 7))
if sys.argv[2] == "float32":
    x32 = np.ones(3, dtype=np.float32)
    said.append(notify_compile(toy, (x32, 1.0), "toy kernels (float32)", 7))
    toy(x32, 1.0)
stats = toy.stats
print(json.dumps({"said": said, "hits": sum(stats.cache_hits.values()),
                  "misses": sum(stats.cache_misses.values())}))
"""

needs_jit = pytest.mark.skipif(_jit.JIT_DISABLED, reason="NUMBA_DISABLE_JIT is set")


def _child(tmp_path, cache_dir, second="", cache="1"):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_DISABLE_JIT"}
    env.update(NUMBA_CACHE_DIR=str(cache_dir), FASTMLP_CACHE=cache)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path), second],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    notices = [ln for ln in proc.stderr.splitlines() if ln.startswith("LOG fastmlp ")]
    return json.loads(proc.stdout.splitlines()[-1]), notices


@needs_jit
def test_cold_cache_notices_once_then_never_again(tmp_path):
    (tmp_path / "toy_kernels.py").write_text(TOY)
    cache_dir = tmp_path / "numba-cache"

    out, notices = _child(tmp_path, cache_dir)
    assert out == {"said": [True, False], "hits": 0, "misses": 1}
    assert len(notices) == 1
    line = notices[0]
    assert "compiling toy kernels (float64)" in line
    assert "about 7 s" in line
    assert "once per machine and fastmlp version" in line

    # A fresh process finds the signature in the on-disk cache: no notice.
    out, notices = _child(tmp_path, cache_dir)
    assert out == {"said": [False, False], "hits": 1, "misses": 0}
    assert notices == []

    # A signature the cache does not hold: one notice for it, in that process.
    out, notices = _child(tmp_path, cache_dir, "float32")
    assert out["said"] == [False, False, True]
    assert out["misses"] == 1
    assert len(notices) == 1 and "toy kernels (float32)" in notices[0]


@needs_jit
def test_cache_off_notices_in_every_process(tmp_path):
    (tmp_path / "toy_kernels.py").write_text(TOY)
    for _ in range(2):
        out, notices = _child(tmp_path, tmp_path / "unused", cache="0")
        assert out["said"] == [True, False]
        assert len(notices) == 1
        assert "again in every process" in notices[0]
        assert "FASTMLP_CACHE=0" in notices[0]


@njit
def _plain(x, y):  # not cached: its _cache is a NullCache
    return x[0] + y


@needs_jit
def test_in_process_once_per_signature_and_verbose_prints(caplog, capsys):
    x = np.arange(3.0)
    with caplog.at_level(logging.INFO, logger="fastmlp"):
        assert notify_compile(_plain, (x, 2), "plain kernels", 0.2, verbose=True)
        _plain(x, 2)
        assert not notify_compile(_plain, (x, 2), "plain kernels", 0.2, verbose=True)
        # int32 would convert to the compiled int64 overload, but a lazy
        # dispatcher compiles a new specialisation instead: a notice.
        assert notify_compile(_plain, (x, np.int32(2)), "plain kernels (int32)", 0.2)
        _plain(x, np.int32(2))
        assert len(_plain.overloads) == 2
        x32 = x.astype(np.float32)
        assert notify_compile(_plain, (x32, 2), "plain kernels (float32)", 0.2)
        assert not notify_compile(_plain, (x32, 2), "plain kernels (float32)", 0.2)
    records = [r for r in caplog.records if r.name == "fastmlp"]
    assert [r.levelno for r in records] == [logging.INFO] * 3
    assert "compiling plain kernels," in records[0].getMessage()
    assert "plain kernels (int32)" in records[1].getMessage()
    assert "plain kernels (float32)" in records[2].getMessage()
    printed = capsys.readouterr().out.splitlines()
    assert printed == [records[0].getMessage()]  # verbose: printed, once


def test_never_raises_and_ignores_non_dispatchers(caplog):
    class Broken:
        @property
        def overloads(self):
            raise RuntimeError("boom")

    def plain_python(x):  # what a kernel is under NUMBA_DISABLE_JIT
        return x

    with caplog.at_level(logging.INFO, logger="fastmlp"):
        assert notify_compile(Broken(), (1,), "broken", 1) is False
        assert notify_compile(plain_python, (1,), "plain", 1) is False
        assert notify_compile(None, (object(),), "none", 1) is False
    assert not [r for r in caplog.records if r.name == "fastmlp"]


Bufs = namedtuple("Bufs", "a b c d e f g h i j")


@njit
def _wide(theta, opt, buf, X, Y, sw, idx, layout, codes, hp, batch, t, sqnorm):
    return theta[0] + buf.a[0, 0] + t + sqnorm


@needs_jit
def test_overhead_when_nothing_compiles_is_microseconds():
    """A training call's 13 arguments (one a namedtuple of 10 arrays): once
    compiled, the check is a fingerprint and a set lookup, not Numba's typeof
    of every argument (about 150 us)."""
    f32 = np.zeros((2, 3), dtype=np.float32)
    args = (
        np.zeros(5, dtype=np.float32),
        np.zeros((2, 5), dtype=np.float32),
        Bufs(*[f32] * 7, np.zeros(3), np.zeros(3), np.zeros(3)),
        f32,
        f32,
        np.zeros(2, dtype=np.float32),
        np.arange(2),
        np.zeros((2, 5), dtype=np.int64),
        np.zeros(8, dtype=np.int64),
        np.zeros(7),
        64,
        0,
        1.5,
    )
    _wide(*args)
    notify_compile(_wide, args, "wide", 1)
    n = 2000
    start = time.perf_counter()
    for _ in range(n):
        notify_compile(_wide, args, "wide", 1)
    per_call = (time.perf_counter() - start) / n
    assert per_call < 30e-6, f"{per_call * 1e6:.1f} us per call"


def test_message_says_what_how_long_and_that_it_is_cached():
    msg = compile_message("training kernels (float64, dense input)", 29.6)
    assert msg.startswith("fastmlp: compiling training kernels (float64, dense input)")
    assert "about 30 s" in msg
    assert "once per machine and fastmlp version" in msg
    assert "cached on disk" in msg
    assert "python -m fastmlp warmup" in msg
    assert "\n" not in msg
    assert "may need compiling" in compile_message("x", 1, cached=None)
    assert "again in every process" in compile_message("x", 1, cache_off=True)


@needs_jit
def test_entry_point_notice_names_kind_dtype_and_input(caplog):
    @njit
    def entry(x):
        return x[0]

    x = np.zeros(2, dtype=np.float32)
    with caplog.at_level(logging.INFO, logger="fastmlp"):
        assert _notice.notify_kernels("lbfgs", entry, (x,), np.float32, True)
        assert not _notice.notify_kernels("nonsense", entry, (x[:1],), x.dtype, False)
    (record,) = [r for r in caplog.records if r.name == "fastmlp"]
    seconds = _notice.COMPILE_SECONDS["lbfgs"]
    assert "compiling L-BFGS gradient kernels (float32, sparse input)" in record.message
    assert f"about {seconds} s" in record.message


def test_cli_logging_prints_the_notices_once(tmp_path):
    """python -m fastmlp configures the fastmlp logger to print INFO records."""
    script = textwrap.dedent(
        """
        import io, logging
        from fastmlp._notice import configure_cli_logging, logger
        buf = io.StringIO()
        configure_cli_logging(buf)
        configure_cli_logging(buf)  # idempotent: one handler
        logger.info("fastmlp: compiling x")
        logger.debug("hidden")
        print(repr(buf.getvalue()))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == repr("fastmlp: compiling x\n")


def test_cli_logging_block_leaves_the_logger_as_it_was(capsys):
    logger = _notice.logger
    before = (logger.level, list(logger.handlers))
    with _notice.cli_logging():
        logger.info("fastmlp: shown")
    logger.info("fastmlp: not shown")
    assert (logger.level, list(logger.handlers)) == before
    assert capsys.readouterr().err == "fastmlp: shown\n"


def test_logger_is_silent_unless_configured():
    # No handler of fastmlp's own outside the CLI: a library logs, the
    # application decides what is shown.
    assert _notice.logger.name == "fastmlp"
    assert not [h for h in _notice.logger.handlers if getattr(h, "_fastmlp_cli", False)]


@needs_jit
def test_solver_notices_name_the_signature_each_kernel_is_called_with(monkeypatch):
    """Each entry point's notice is asked about exactly the types the kernel is
    then called with (its signature is among the kernel's compiled overloads), with
    the kind, dtype and input that its text names."""
    import warnings

    import scipy.sparse as sp
    from sklearn.base import clone
    from sklearn.exceptions import ConvergenceWarning

    from fastmlp import MLPClassifier, MLPRegressor, _solver

    asked = []

    def record(kind, dispatcher, args, dtype, sparse, verbose=False):
        asked.append((kind, dispatcher, args, np.dtype(dtype).name, sparse, verbose))
        return False

    monkeypatch.setattr(_solver, "notify_kernels", record)

    class NoMemo(dict):  # every call asks (addresses are memoised, see below)
        def __setitem__(self, key, value):
            pass

    monkeypatch.setattr(_solver, "_addresses", NoMemo())
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3)).astype(np.float32)
    y = np.arange(40) % 2
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0).astype(np.float64))
    clf = MLPClassifier((4,), max_iter=1, verbose=False, random_state=0)
    reg = MLPRegressor(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        clf.predict(X)
        clf.jacobian(X[:2])
        reg.fit(Xs, X[:, 0])

    # Each entry asks about its task kernel, then its parallel kernel.
    kinds = [(a[0], a[3], a[4]) for a in asked][::2]
    assert kinds[:3] == [
        ("training", "float32", False),
        ("prediction", "float32", False),
        ("jacobian", "float32", False),
    ]
    assert kinds[3:] and set(kinds[3:]) == {("lbfgs", "float64", True)}
    assert asked[0][5] is False  # the estimator's verbose
    for kind, dispatcher, args, *_ in asked:
        sig = tuple(dispatcher.typeof_pyval(a) for a in args)
        assert sig in dispatcher.overloads, kind
    # With the memo, a second fit of the same types finds its kernel's address
    # without asking again.
    monkeypatch.setattr(_solver, "_addresses", {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clone(clf).fit(X, y)
    n_asked = len(asked)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clone(clf).fit(X, y)
    assert len(asked) == n_asked


@needs_jit
def test_extended_kernel_notices_on_first_compile(tmp_path):
    """The kernel of fastmlp's extra activations and dropout is compiled only
    for a network that uses them: its own notice, once per dtype."""
    code = (
        "import logging, sys; import numpy as np\n"
        "logging.basicConfig(level=logging.INFO, format='LOG %(name)s %(message)s')\n"
        "from fastmlp._kernels.extended import entry_point\n"
        "entry_point(np.float32); entry_point(np.float32)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_DISABLE_JIT"}
    env.update(NUMBA_CACHE_DIR=str(tmp_path / "cache"), FASTMLP_CACHE="1")
    runs = []
    for _ in range(2):  # a cold cache, then loaded from it
        proc = subprocess.run([sys.executable, "-c", code], env=env,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        runs.append(
            [ln for ln in proc.stderr.splitlines() if ln.startswith("LOG fastmlp")]
        )
    assert len(runs[0]) == 1 and runs[1] == []
    assert (
        "compiling elu/gelu/silu/softplus and dropout kernels (float32)" in runs[0][0]
    )
