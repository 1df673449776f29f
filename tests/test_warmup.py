"""python -m fastmlp warmup, the CLI's commands, and what the warm-up covers."""

import json
import os
import re
import subprocess
import sys
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from fastmlp import MLPClassifier, MLPRegressor, _jit, _warmup
from fastmlp import __main__ as cli

needs_cache = pytest.mark.skipif(
    not _jit.CACHE or _jit.JIT_DISABLED, reason="on-disk cache off or JIT disabled"
)

# Public-API calls of every kind the warm-up promises, on other shapes, sizes
# and options than the warm-up's own calls: none of them may compile anything.
AFTER_WARMUP = r"""
import json, warnings
import numpy as np
import scipy.sparse as sp
from numba.core import event
from sklearn.exceptions import ConvergenceWarning
from fastmlp import MLPClassifier, MLPRegressor
from fastmlp._warmup import entry_points

warnings.simplefilter("ignore", ConvergenceWarning)
compiles = []

class Listener(event.Listener):
    def on_start(self, ev):
        compiles.append(ev.data["dispatcher"].py_func.__name__)

    def on_end(self, ev):
        pass

rng = np.random.default_rng(1)
X = rng.standard_normal((150, 6))
y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
y_reg = np.c_[X[:, 0], X[:, 2] ** 2]
X32 = X.astype(np.float32)
Xs = sp.csr_matrix(np.where(np.abs(X) > 0.7, X, 0))
with event.install_listener("numba:compile", Listener()):
    # float32 dense: adam, predict_proba, jacobian
    clf = MLPClassifier((7, 5), max_iter=3, random_state=0).fit(X32, y)
    clf.predict_proba(X32)
    clf.jacobian(X32[:4])
    # float64 sparse: sgd with momentum, early stopping, partial_fit, CSC input
    reg = MLPRegressor(hidden_layer_sizes=(9,), solver="sgd", max_iter=3,
                       early_stopping=True, random_state=0).fit(Xs, y_reg)
    reg.score(Xs.tocsc(), y_reg)
    MLPClassifier((6,), random_state=0).partial_fit(Xs, y, classes=[0, 1, 2])
    # lbfgs, dense float64 and float32 input, sparse input
    lb = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=5,
                      random_state=0).fit(X, y_reg)
    lb.jacobian(X[:3])
    MLPClassifier((8,), solver="lbfgs", max_iter=5, random_state=0).fit(X32, y)
    MLPClassifier((8,), solver="lbfgs", max_iter=5, random_state=0).fit(Xs, y)
    # float64 dense sgd, split batches
    MLPClassifier((4,), solver="sgd", max_iter=2, batch_size=64).fit(X, y)
    # float32 sparse training and prediction
    Xs32 = Xs.astype(np.float32)
    MLPClassifier((5,), max_iter=2, random_state=0).fit(Xs32, y).predict(Xs32)

stats = {name: [sum(d.stats.cache_hits.values()), sum(d.stats.cache_misses.values())]
         for name, d in entry_points().items()}
print(json.dumps({"compiles": compiles, "stats": stats}))
"""


def _env(cache_dir):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_DISABLE_JIT"}
    env["NUMBA_CACHE_DIR"] = str(cache_dir)
    return env


@pytest.mark.slow
@needs_cache
def test_warmup_cli_on_an_empty_cache_leaves_nothing_to_compile(tmp_path):
    """One cold run of the CLI in 2 workers; then a fresh process fitting,
    predicting and differentiating across dtypes, inputs and solvers loads
    everything from the cache."""
    env = _env(tmp_path / "numba-cache")
    proc = subprocess.run(
        [sys.executable, "-m", "fastmlp", "warmup", "--jobs", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    n = len(_warmup.GROUPS)
    progress = [ln for ln in lines if re.match(rf"\[\d/{n}\] ", ln)]
    assert len(progress) == n, proc.stdout
    pattern = re.compile(
        rf"\[(\d)/{n}\] (.+): \d+\.\d s "
        r"\((compiled \d+ kernel signatures|loaded from the on-disk cache)\)"
    )
    seen = []
    for k, line in enumerate(progress, 1):
        match = pattern.fullmatch(line)
        assert match, line
        assert int(match.group(1)) == k
        seen.append(match.group(2))
    assert any("compiled" in line for line in progress)
    assert sorted(seen) == sorted(g[0] for g in _warmup.GROUPS)
    assert re.fullmatch(r"warmup done: \d+ groups in \d+\.\d s.*", lines[-1])
    assert lines.index(progress[0]) > 0  # a line says what happens before the wait
    assert "Warning" not in proc.stderr, proc.stderr

    out = subprocess.run(
        [sys.executable, "-c", AFTER_WARMUP],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["compiles"] == []
    stats = result["stats"]
    assert "network.train_epochs" in stats and "network.run_task" in stats
    assert all(misses == 0 for _, misses in stats.values()), stats
    # both dtypes, dense and sparse (L-BFGS and prediction share these kernels)
    assert stats["network.train_epochs"][0] >= 4
    assert stats["network.run_task"][0] >= 4


@pytest.mark.skipif(_jit.JIT_DISABLED, reason="JIT disabled")
def test_public_calls_compile_nothing_after_the_session_warmup():
    """conftest ran warmup() in this process: the same kinds of calls on other
    shapes and options run on what it compiled (in-process twin of the CLI test)."""
    from numba.core import event

    compiles = []

    class Listener(event.Listener):
        def on_start(self, ev):
            compiles.append(ev.data["dispatcher"].py_func.__name__)

        def on_end(self, ev):
            pass

    rng = np.random.default_rng(3)
    X = rng.standard_normal((90, 4))
    y = (X[:, 0] > 0).astype(int)
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.6, X, 0))
    # Read-only arrays (a memmap opened "r") and 64-bit CSR indices (scipy's
    # sparse arrays) reach the kernels as the types the warmup compiled.
    X_ro = X.astype(np.float32)
    X_ro.flags.writeable = False
    Xs64 = Xs.copy()
    Xs64.indices = Xs64.indices.astype(np.int64)
    Xs64.indptr = Xs64.indptr.astype(np.int64)
    with warnings.catch_warnings(), event.install_listener("numba:compile", Listener()):
        warnings.simplefilter("ignore", ConvergenceWarning)
        for data in (X, X.astype(np.float32), Xs, Xs.astype(np.float32), X_ro, Xs64):
            clf = MLPClassifier((5, 3), max_iter=2, batch_size=32, random_state=0)
            clf.fit(data, y).predict_proba(data)
            clf.jacobian(data[:2])
            MLPRegressor(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=3).fit(
                data, X[:, 1]
            ).predict(data)
    own = {name.split(".")[1] for name in _warmup.entry_points()}
    assert [c for c in compiles if c in own] == []


def test_groups_cover_both_dtypes_dense_and_sparse():
    kinds = {(dtype, sparse) for _, dtype, sparse in _warmup.GROUPS}
    assert kinds == {(d, s) for d in ("float32", "float64") for s in (False, True)}
    assert len({g[0] for g in _warmup.GROUPS}) == len(_warmup.GROUPS)
    found = _warmup.entry_points()
    assert "network.train_epochs" in found and "network.run_task" in found
    assert all(hasattr(d, "stats") for d in found.values())


def test_warmup_selects_groups_by_dtype_and_sparse(monkeypatch):
    ran = []
    monkeypatch.setattr(
        _warmup, "run_group", lambda label: ran.append(label) or {"group": label}
    )
    reports = []
    _warmup.warmup(
        dtypes=(np.float32,), sparse=False, report=lambda *a: reports.append(a)
    )
    assert ran == ["float32 dense"]
    assert reports == [(1, 1, {"group": "float32 dense"})]
    ran.clear()
    _warmup.warmup()
    assert ran == [g[0] for g in _warmup.GROUPS]


def test_workers_use_spawn_and_one_thread(monkeypatch):
    """The pool is built on the spawn context, with one kernel thread per worker
    in the environment the workers inherit (and the caller's left as it was)."""
    import concurrent.futures as cf

    seen = {}

    class FakePool:
        def __init__(self, max_workers, mp_context, initializer, initargs):
            seen.update(workers=max_workers, method=mp_context.get_start_method())

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def submit(self, fn, label):  # where ProcessPoolExecutor spawns workers
            seen.setdefault("threads", set()).add(os.environ.get("NUMBA_NUM_THREADS"))
            future = cf.Future()
            future.set_result({"group": label})
            return future

    monkeypatch.setattr(cf, "ProcessPoolExecutor", FakePool)
    monkeypatch.setenv("NUMBA_NUM_THREADS", "2")
    results = _warmup.warmup(jobs=8)
    assert seen == {"workers": len(_warmup.GROUPS), "method": "spawn", "threads": {"1"}}
    assert sorted(r["group"] for r in results) == sorted(g[0] for g in _warmup.GROUPS)
    assert os.environ["NUMBA_NUM_THREADS"] == "2"


# -- argument parsing -------------------------------------------------------


def test_no_command_is_the_demo_with_its_options():
    args = cli.parse_args([])
    assert args.command == "demo"
    assert (args.hidden, args.solver, args.dtype, args.repeats) == (
        [100],
        "adam",
        "float32",
        3,
    )
    args = cli.parse_args(["--solver", "sgd", "--hidden", "20", "10"])
    assert (args.command, args.solver, args.hidden) == ("demo", "sgd", [20, 10])
    args = cli.parse_args(["demo", "--dtype", "float64", "--max-iter", "5"])
    assert (args.command, args.dtype, args.max_iter) == ("demo", "float64", 5)


def test_warmup_and_cache_arguments(capsys):
    args = cli.parse_args(["warmup"])
    assert (args.command, args.jobs, args.quiet) == (
        "warmup",
        _warmup.default_jobs(),
        False,
    )
    args = cli.parse_args(["warmup", "--jobs", "3", "--quiet"])
    assert (args.jobs, args.quiet) == (3, True)
    assert cli.parse_args(["warmup", "-j", "1", "-q"]).jobs == 1
    assert cli.parse_args(["cache", "info"]).action == "info"
    assert cli.parse_args(["cache", "clear"]).action == "clear"
    for bad in (
        ["warmup", "--jobs", "0"],
        ["warmup", "--jobs", "x"],
        ["cache"],
        ["cache", "drop"],
        ["demo", "--solver", "newton"],
        ["warmup", "--hidden", "3"],
    ):
        with pytest.raises(SystemExit) as exc:
            cli.parse_args(bad)
        assert exc.value.code == 2, bad
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        cli.parse_args(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "warmup" in text and "cache" in text and "demo" in text


def test_warmup_command_reports_each_group_and_a_total(monkeypatch, capsys):
    def fake_warmup(jobs, report):
        results = []
        for k, (label, compiled, loaded) in enumerate(
            [("float64 dense", 3, 0), ("float32 dense", 0, 4), ("x", 0, 0)], 1
        ):
            result = dict(
                group=label, seconds=k * 1.25, compiled=compiled, loaded=loaded
            )
            results.append(result)
            report(k, 3, result)
        return results

    monkeypatch.setattr(_warmup, "warmup", fake_warmup)
    assert cli.run_warmup(2) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "2 worker processes" in lines[0]
    assert lines[1] == "[1/3] float64 dense: 1.2 s (compiled 3 kernel signatures)"
    assert lines[2] == "[2/3] float32 dense: 2.5 s (loaded from the on-disk cache)"
    assert lines[3] == "[3/3] x: 3.8 s (already loaded)"
    assert lines[4].startswith("warmup done: 3 groups in ")
    assert cli.run_warmup(2, quiet=True) == 0
    assert capsys.readouterr().out == ""

    def failing(jobs, report):
        raise RuntimeError("worker died")

    monkeypatch.setattr(_warmup, "warmup", failing)
    assert cli.run_warmup(2, quiet=True) == 1
    assert "worker died" in capsys.readouterr().err


# -- cache info / clear -------------------------------------------------------


def test_cache_info_runs_end_to_end(tmp_path):
    """python -m fastmlp cache info in a child process (with fastmlp._cache or
    Numba's folders, whichever this checkout has). Not clear: it would empty a
    real cache."""
    proc = subprocess.run(
        [sys.executable, "-m", "fastmlp", "cache", "info"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "lookup order" in proc.stdout
    assert len(proc.stdout.splitlines()) >= 2


def test_cache_command_uses_fastmlp_cache_when_present(tmp_path, monkeypatch, capsys):
    calls = []
    fake = SimpleNamespace(
        cache_dirs=lambda: [tmp_path / "a", tmp_path / "b"],
        clear=lambda: calls.append("clear") or 5,
    )
    monkeypatch.setitem(sys.modules, "fastmlp._cache", fake)
    (tmp_path / "b").mkdir()
    for name in (
        "network.train_epochs-253.py311.nbi",
        "network.train_epochs-253.py311.1.nbc",
    ):
        (tmp_path / "b" / name).write_bytes(b"x" * 2048)
    assert cli.run_cache("info") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == [
        f"  {tmp_path / 'a'}: absent",
        f"  {tmp_path / 'b'}: 1 kernels, 1 compiled signatures, 0.0 MiB",
    ]
    assert cli.run_cache("clear") == 0
    assert calls == ["clear"]
    assert "5 files removed" in capsys.readouterr().out
