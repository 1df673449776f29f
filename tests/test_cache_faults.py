"""The compile cache never breaks fastmlp (issue 11, items 4-6).

Every case runs fresh interpreters on a temporary cache folder
(``NUMBA_CACHE_DIR``) and checks them against independent references: the bits
an uncached process (``FASTMLP_CACHE=0``) computes, and the dispatchers' own
cache hit/miss counters (a miss is a compile). Most cases use a tiny kernel
made with ``_jit.kernel`` in a module written to a temporary folder (compiles in
well under a second); one end-to-end case trains a real network.

Damaged entries (truncated, emptied, garbled, zeroed, swapped) are detected
before anything is unpickled and rebuilt; with no writable folder the kernels
run uncached after one warning; a read-only cache warmed by root serves another
user without a compile; concurrent cold processes agree and their saves do not
overwrite each other.
"""

import hashlib
import json
import os
import pwd
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from fastmlp import _cache, _jit

pytestmark = pytest.mark.skipif(
    _jit.JIT_DISABLED, reason="the cache holds compiled kernels only"
)

TINY_SRC = """
from fastmlp._jit import kernel


@kernel
def tiny(x):
    s = x[0] * 0.0
    for i in range(x.shape[0]):
        s += x[i] * x[i] + 0.5 * x[i]
    return s


@kernel
def tiny2(x):
    return x.sum() * 0.25
"""

# One child process: imports the tiny kernels from cfg["src"], calls them, and
# prints what it computed, its hit/miss counters, warnings and log records.
CHILD = r"""
import json, logging, sys, time, warnings
cfg = json.loads(sys.argv[1])
sys.path.insert(0, cfg["src"])
records = []


class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())


keep = Keep()
keep.setLevel(logging.WARNING)
logging.getLogger("fastmlp").addHandler(keep)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    if cfg.get("import_estimators"):
        from fastmlp import MLPClassifier  # noqa: F401 (issue 11's first symptom)
    import numpy as np
    from fastmlp import _cache
    if cfg.get("slow_data_writes"):
        # Widen each save's read-index .. write-index window to 0.8 s, so that
        # two processes saving at about the same time overlap for certain.
        write = _cache._atomic_write

        def slow_write(path, data):
            if str(path).endswith(".nbc"):
                time.sleep(0.8)
            write(path, data)

        _cache._atomic_write = slow_write
    import tinykern
    while time.time() < cfg.get("start_at", 0):
        time.sleep(0.005)
    results = {}
    for call in cfg["calls"]:
        name, dtype = call.split(":")
        x = (np.arange(1, 40) * 0.37).astype(dtype)
        results[call] = float(getattr(tinykern, name)(x)).hex()
stats = _cache.kernel_stats()
print(json.dumps({
    "results": results,
    "hits": sum(h for h, m in stats.values()),
    "misses": sum(m for h, m in stats.values()),
    "warnings": [[w.category.__name__, str(w.message)] for w in caught],
    "log": records,
}))
"""

CALLS = ["tiny:float64", "tiny:int64"]
CLEAN_ENV = ("NUMBA_DISABLE_JIT", "NUMBA_CACHE_DIR", "XDG_CACHE_HOME") + tuple(
    k for k in os.environ if k.startswith("FASTMLP_CACHE")
)


def child_env(cache=None, **extra):
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = str(cache)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start(cfg, env, prefix=()):
    return subprocess.Popen(
        [*prefix, sys.executable, "-c", CHILD, json.dumps(cfg)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc, timeout=120):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    return json.loads(out.splitlines()[-1])


def run(src, env, calls=CALLS, prefix=(), **cfg):
    return finish(start({"src": str(src), "calls": calls, **cfg}, env, prefix))


def our_files(folder):
    """Cache files under folder (not .pyc, not the stamp), name -> bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(Path(folder).rglob("*"))
        if p.is_file() and _cache._is_ours(p.name)
    }


@pytest.fixture(scope="module")
def base():
    """A world-readable scratch folder (pytest's tmp_path is private to root,
    and one case runs a child as another user)."""
    path = Path(tempfile.mkdtemp(prefix="fastmlp-cache-faults-"))
    path.chmod(0o755)
    yield path
    for p in [path, *path.rglob("*")]:  # undo read-only modes before removing
        if p.is_dir() and not p.is_symlink():
            p.chmod(stat.S_IRWXU | p.stat().st_mode)
    shutil.rmtree(path)


@pytest.fixture(scope="module")
def src(base):
    folder = base / "src"
    folder.mkdir()
    (folder / "tinykern.py").write_text(TINY_SRC)
    return folder


@pytest.fixture(scope="module")
def reference(base, src):
    """The tiny kernels' results in an uncached process, which also must not
    write any cache file."""
    cache = base / "uncached"
    out = run(src, child_env(cache, FASTMLP_CACHE=0), calls=[*CALLS, "tiny2:float64"])
    assert (out["hits"], out["misses"]) == (0, 0)  # no cache consulted at all
    assert not cache.exists() and not our_files(src)
    return out["results"]


@pytest.fixture(scope="module")
def warm(base, src, reference):
    """A cache folder the tiny kernel's two signatures were saved to."""
    cache = base / "warm"
    cold = run(src, child_env(cache))
    assert (cold["hits"], cold["misses"]) == (0, 2)
    assert cold["results"] == {c: reference[c] for c in CALLS}
    again = run(src, child_env(cache))
    assert (again["hits"], again["misses"]) == (2, 0)
    return cache


def entry_files(cache):
    """The tiny kernel's index, data files (in save order) and manifest."""
    (index,) = Path(cache).rglob("tinykern.tiny-*.py311.nbi")
    data = sorted(index.parent.glob("tinykern.tiny-*.py311.*.nbc"))
    assert [p.name.split(".")[-2] for p in data] == ["1", "2"]
    return index, data, index.with_suffix(".nbm")


def _truncate(p):
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _empty(p):
    p.write_bytes(b"")


def _garble(p):
    p.write_bytes(os.urandom(p.stat().st_size))


def _zeros(p):
    """4 KiB of zeros in the middle of the file."""
    size = p.stat().st_size
    n = min(4096, size // 3)
    with open(p, "r+b") as f:
        f.seek(size // 2 - n // 2)
        f.write(b"\0" * n)


def _zeros_in_code(p):
    """Up to 4 KiB of zeros in the middle of the machine code (the largest
    executable section of the ELF object inside the entry): it still unpickles
    and links, and then crashes (what made train_epochs segfault)."""
    raw = bytearray(p.read_bytes())
    elf = raw.find(b"\x7fELF")
    assert elf >= 0
    (shoff,) = struct.unpack_from("<Q", raw, elf + 0x28)
    shentsize, shnum = struct.unpack_from("<HH", raw, elf + 0x3A)
    start, size = 0, 0
    for i in range(shnum):
        header = elf + shoff + i * shentsize
        (flags,) = struct.unpack_from("<Q", raw, header + 8)
        offset, length = struct.unpack_from("<QQ", raw, header + 24)
        if flags & 0x4 and length > size:  # SHF_EXECINSTR
            start, size = elf + offset, length
    n = min(4096, size // 2)
    assert n > 0
    at = start + size // 2 - n // 2
    raw[at : at + n] = bytes(n)
    p.write_bytes(raw)


DAMAGE = {
    # name: (which file, how, expected (hits, misses) of the damaged run)
    "nbc-truncated": ("data1", _truncate, (1, 1)),
    "nbc-emptied": ("data1", _empty, (1, 1)),
    "nbc-garbled": ("data1", _garble, (1, 1)),
    "nbc-zeros-in-middle": ("data1", _zeros, (1, 1)),
    "nbc-zeros-in-code": ("data1", _zeros_in_code, (1, 1)),
    "nbi-truncated": ("index", _truncate, (0, 2)),
    "nbi-emptied": ("index", _empty, (0, 2)),
    "nbi-garbled": ("index", _garble, (0, 2)),
    "manifest-garbled": ("manifest", _garble, (0, 2)),
}


@pytest.fixture(scope="module")
def damaged_runs(base, src, warm):
    """For each mode, a copy of the warm cache damaged that way, a child run on
    it and then a second one; the children of each round run all at once."""
    caches = {}
    for mode, (which, damage, _) in DAMAGE.items():
        cache = caches[mode] = base / f"case-{mode}"
        shutil.copytree(warm, cache)
        index, data, manifest = entry_files(cache)
        damage({"data1": data[0], "index": index, "manifest": manifest}[which])
    rounds = []
    for _ in range(2):
        procs = {
            m: start({"src": str(src), "calls": CALLS}, child_env(c))
            for m, c in caches.items()
        }
        rounds.append({m: finish(p) for m, p in procs.items()})
    return rounds


@pytest.mark.parametrize("mode", sorted(DAMAGE))
def test_damaged_entry_is_a_miss_then_rebuilt(mode, damaged_runs, reference):
    out, rebuilt = (r[mode] for r in damaged_runs)
    assert out["results"] == {c: reference[c] for c in CALLS}
    assert (out["hits"], out["misses"]) == DAMAGE[mode][2]
    assert any("ignoring damaged cache file" in r for r in out["log"]), out["log"]
    assert out["warnings"] == []  # a rebuilt entry is no reason to warn

    assert (rebuilt["hits"], rebuilt["misses"]) == (2, 0)
    assert rebuilt["results"] == out["results"]


def test_data_file_of_another_signature_is_not_loaded(base, src, warm, reference):
    """A valid entry in the wrong place (what two unlocked saves can leave: the
    index pointing at the other process's data) is a miss, not a wrong object."""
    cache = base / "swapped"
    shutil.copytree(warm, cache)
    _, (first, second), _ = entry_files(cache)
    first.write_bytes(second.read_bytes())
    out = run(src, child_env(cache))
    assert out["results"] == {c: reference[c] for c in CALLS}
    assert (out["hits"], out["misses"]) == (1, 1)


def test_no_writable_folder_runs_uncached_with_one_warning(base, src, reference):
    """NUMBA_CACHE_DIR below a regular file cannot be created, not even by root
    (who ignores permissions); Numba alone raised 'no locator available'."""
    blocker = base / "a-file"
    blocker.write_text("not a folder")
    calls = [*CALLS, "tiny2:float64"]
    env = child_env(blocker / "cache")
    for _ in range(2):  # uncached: the second process compiles again
        out = run(src, env, calls=calls, import_estimators=True)
        assert out["results"] == reference
        assert (out["hits"], out["misses"]) == (0, 3)
        assert [w[0] for w in out["warnings"]] == ["CacheWarning"]
        assert "NUMBA_CACHE_DIR" in out["warnings"][0][1]
        assert [r for r in out["log"] if "cannot write" in r] == [out["warnings"][0][1]]
    assert not list((src / "__pycache__").glob("*.nb?"))  # nor in the package


def test_default_location_is_per_user_and_nothing_goes_into_the_package(
    base, src, reference
):
    """Without NUMBA_CACHE_DIR entries go to ~/.cache/fastmlp/<version>-<hash>
    (or $XDG_CACHE_HOME/fastmlp/...), never next to the sources, so uninstalling
    leaves nothing behind; clear(all_versions=True) removes that base."""
    shared = base / "default-src"
    shutil.copytree(src, shared)
    from fastmlp import __version__

    home, xdg = base / "default-home", base / "default-xdg"
    for env, root in [
        (child_env(HOME=home), home / ".cache" / "fastmlp"),
        (child_env(HOME=home, XDG_CACHE_HOME=xdg), xdg / "fastmlp"),
    ]:
        out = run(shared, env)
        assert (out["hits"], out["misses"]) == (0, 2)
        assert out["results"] == {c: reference[c] for c in CALLS}
        (key,) = (p.name for p in root.iterdir())
        assert key.startswith(__version__ + "-")
        assert len(our_files(root / key)) == 4
        assert not our_files(shared)
    assert run(shared, child_env(HOME=home))["hits"] == 2

    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from fastmlp import _cache; print(_cache.clear(all_versions=True))",
        ],
        env=child_env(HOME=home),
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["5"]  # index, 2 data files, manifest, stamp
    assert not (home / ".cache" / "fastmlp").exists() and (xdg / "fastmlp").exists()


# ------------------------------------------------------------ another user's view


@pytest.fixture(scope="module")
def other_user(base):
    """(command prefix, uid) to run a child as an unprivileged user.

    As root: a uid without a passwd entry through ``setpriv``. The interpreter
    may sit under a root-only folder (pyenv in /root), so the child keeps
    CAP_DAC_READ_SEARCH where plain execution fails: it can read and search
    everything, and write only where permissions let it, which is what these
    cases are about. As a non-root user: that user itself, with the folders it
    must not write made read-only."""
    if os.geteuid() != 0:
        return (), os.getuid()
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is needed to run a child as another user")
    uid = next(u for u in range(61000, 62000) if not _has_passwd(u))
    plain = ("setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups")
    caps = ("--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search")
    probe = [sys.executable, "-c", "import fastmlp._jit"]
    for prefix in (plain, plain + caps):
        done = subprocess.run([*prefix, *probe], capture_output=True, env=child_env())
        if done.returncode == 0:
            return prefix, uid
    pytest.skip(f"cannot run the interpreter as uid {uid}: {done.stderr[-500:]!r}")


def _has_passwd(uid):
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def read_only(path):
    for p in [*Path(path).rglob("*"), Path(path)]:
        p.chmod(0o555 if p.is_dir() else 0o444)


def home_for(base, uid, name, writable):
    home = base / name
    home.mkdir()
    if os.geteuid() == 0:
        os.chown(home, uid, uid)
    home.chmod(0o755 if writable else 0o555)
    return home


def test_no_writable_folder_as_an_unprivileged_user(base, src, reference, other_user):
    """The issue's setting: home not writable, package folder read-only."""
    prefix, uid = other_user
    shared = base / "shared-src-nowrite"
    shutil.copytree(src, shared)
    read_only(shared)
    home = home_for(base, uid, "home-nowrite", writable=False)
    env = child_env(HOME=home, USER="fastmlp-test", LOGNAME="fastmlp-test")
    out = run(shared, env, prefix=prefix, import_estimators=True)
    assert out["results"] == {c: reference[c] for c in CALLS}
    assert (out["hits"], out["misses"]) == (0, 2)
    assert [w[0] for w in out["warnings"]] == ["CacheWarning"]
    assert "NUMBA_CACHE_DIR" in out["warnings"][0][1]
    assert not list(home.rglob("*"))


def test_read_only_cache_warmed_by_root_serves_another_user(
    base, src, reference, other_user
):
    """System mode fills the package folder (here: the tiny module's
    __pycache__); another user then loads from it, read-only, with 0 compiles,
    and writes nothing."""
    prefix, uid = other_user
    shared = base / "shared-src"
    shutil.copytree(src, shared)
    owner_cache = base / "owner-primary"
    warmed = run(shared, child_env(owner_cache, FASTMLP_CACHE_SYSTEM=1))
    assert (warmed["hits"], warmed["misses"]) == (0, 2)
    assert not owner_cache.exists()  # system mode writes the package folder only
    files = our_files(shared / "__pycache__")
    assert len(files) == 4  # index, two data files, manifest
    read_only(shared)

    home = home_for(base, uid, "home-reader", writable=True)
    env = child_env(HOME=home, USER="fastmlp-test", LOGNAME="fastmlp-test")
    out = run(shared, env, prefix=prefix)
    assert out["results"] == {c: reference[c] for c in CALLS}
    assert (out["hits"], out["misses"]) == (2, 0)
    assert out["warnings"] == []
    assert not [p for p in home.rglob("*") if p.is_file()]
    assert our_files(shared / "__pycache__") == files


def test_stale_read_only_layer_is_ignored_and_left_alone(base, src, reference):
    """A package cache whose stamp names other kernel sources is not read, and
    not emptied by a process that only reads it (root could delete the files:
    nothing but the code stops it); the kernels go to the primary folder."""
    shared = base / "stale-src"
    shutil.copytree(src, shared)
    run(shared, child_env(base / "unused", FASTMLP_CACHE_SYSTEM=1))
    (shared / "__pycache__" / _cache._STAMP_FILE).write_text("older kernel sources")
    files = our_files(shared / "__pycache__")

    primary = base / "stale-primary"
    out = run(shared, child_env(primary))
    assert (out["hits"], out["misses"]) == (0, 2)
    assert out["results"] == {c: reference[c] for c in CALLS}
    assert our_files(shared / "__pycache__") == files
    again = run(shared, child_env(primary))
    assert (again["hits"], again["misses"]) == (2, 0)


def test_stale_primary_folder_is_emptied_and_refilled(base, src, warm, reference):
    cache = base / "stale-warm"
    shutil.copytree(warm, cache)
    index, _, _ = entry_files(cache)
    leftover = index.parent / "tinykern.removed-3.py311.1.nbc"
    leftover.write_bytes(b"from an older kernel")
    (index.parent / _cache._STAMP_FILE).write_text("older kernel sources")

    out = run(src, child_env(cache))
    assert (out["hits"], out["misses"]) == (0, 2)
    assert out["results"] == {c: reference[c] for c in CALLS}
    assert not leftover.exists()
    stamp = (index.parent / _cache._STAMP_FILE).read_text()
    assert stamp == _cache._sources_stamp()
    assert (run(src, child_env(cache))["hits"]) == 2


# ------------------------------------------------------------------- concurrency


def test_two_cold_processes_save_different_signatures_at_once(base, src, reference):
    """Two processes compile and save one signature each of the same kernel at
    the same moment, each save's read-modify-write of the index stretched to
    0.8 s: without the lock both would pick data file .1 and one entry would
    be lost (or point at the other's data). Afterwards both load."""
    cache = base / "concurrent"
    at = time.time() + 3.0
    procs = [
        start(
            {"src": str(src), "calls": [c], "start_at": at, "slow_data_writes": True},
            child_env(cache),
        )
        for c in CALLS
    ]
    outs = [finish(p) for p in procs]
    for call, out in zip(CALLS, outs):
        assert out["results"] == {call: reference[call]}
        assert (out["hits"], out["misses"]) == (0, 1)
    _, data, manifest = entry_files(cache)
    listed = json.loads(manifest.read_text())["files"]
    assert sorted(listed) == sorted(
        [*(p.name for p in data), entry_files(cache)[0].name]
    )

    after = run(src, child_env(cache))
    assert (after["hits"], after["misses"]) == (2, 0)
    assert after["results"] == {c: reference[c] for c in CALLS}


def test_cache_dirs_and_clear(base, src, reference):
    """The helpers a command line calls: where the cache is, and removing it
    (the package folder only when asked, and never its .pyc files)."""
    cache = base / "cleared"
    shared = base / "cleared-src"
    shutil.copytree(src, shared)
    run(shared, child_env(cache))
    run(shared, child_env(base / "unused2", FASTMLP_CACHE_SYSTEM=1))
    pyc = shared / "__pycache__" / "tinykern.cpython-311.pyc"
    pyc.write_bytes(b"not ours")
    script = f"""
import json, sys
import numpy as np
from numba import typeof
sys.path.insert(0, {str(shared)!r})
import tinykern
from fastmlp import _cache
_cache._KERNEL_DIRS = []  # leave fastmlp's own package folder alone
sig = (typeof(np.zeros(3)),)
codegen = tinykern.tiny.targetctx.codegen()
def state():
    return {{"info": [[d.role, str(d.path), d.lookup, d.save, d.files, d.fresh]
                      for d in _cache.cache_info()],
             "dirs": [str(p) for p in _cache.cache_dirs()],
             "in_cache": tinykern.tiny._cache.in_cache(sig, codegen)}}
steps = [state()]
steps.append(_cache.clear())
steps.append(state())
steps.append(_cache.clear(package=True))
steps.append(state())
print(json.dumps(steps))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=child_env(cache),
        capture_output=True,
        text=True,
        check=True,
    )
    before, removed, mid, removed_package, after = json.loads(done.stdout)
    primary, package = (Path(d[1]) for d in before["info"])
    assert [d[0] for d in before["info"]] == ["NUMBA_CACHE_DIR", "package"]
    assert primary.parent.parent == cache / "fastmlp"
    assert package == shared / "__pycache__"
    assert before["dirs"] == [str(primary), str(package)]  # lookup order
    # lookup, save, files, fresh
    assert before["info"][0][2:] == [True, True, 4, True]
    assert before["info"][1][2:] == [True, False, 4, True]
    assert before["in_cache"] is True
    assert removed == 5  # index, 2 data files, manifest, stamp
    assert not primary.parent.exists()
    assert [d[4] for d in mid["info"]] == [0, 4]  # clear() leaves the package's
    assert mid["in_cache"] is True  # ... which still holds the kernel
    assert removed_package == 5
    assert [d[4] for d in after["info"]] == [0, 0]
    assert after["in_cache"] is False
    assert not our_files(package)
    assert pyc.read_bytes() == b"not ours"  # files not of the cache are kept


# ------------------------------------------------------------------- a real fit

# README's recipe for images and CI: warm the installed package's own cache.
RECIPE = "FASTMLP_CACHE_SYSTEM=1 python -m fastmlp warmup"

FIT = r"""
import hashlib, json, sys, warnings
import numpy as np
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from fastmlp import MLPClassifier, _cache
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 6))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    est = MLPClassifier((8,), max_iter=2, random_state=0).fit(X, y)
digest = hashlib.sha256(b"".join(a.tobytes() for a in est.coefs_ + est.intercepts_))
stats = _cache.kernel_stats()
print(json.dumps({
    "digest": digest.hexdigest(),
    "hits": sum(h for h, m in stats.values()),
    "misses": sum(m for h, m in stats.values()),
    "train_epochs": stats.get("fastmlp._kernels.network.train_epochs"),
    "compiled": sorted(n.rsplit(".", 2)[-2] + "." + n.rsplit(".", 1)[-1]
                       for n, (h, m) in stats.items() if m),
    "warnings": sorted({w.category.__name__ for w in caught}),
    "package": _cache.__file__,
}))
"""


def python_in_child(code, env, prefix=(), cwd=None):
    """Popen; with cwd set, "python -c" imports nothing from this checkout."""
    return subprocess.Popen(
        [*prefix, sys.executable, "-c", code],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_readme_has_the_tested_recipe():
    readme = (Path(_jit.__file__).parents[1] / "README.md").read_text()
    assert RECIPE in readme


@pytest.mark.slow
def test_real_fit_warmed_image_concurrent_damaged_all_match_uncached(base, other_user):
    """An installed copy of fastmlp (as in site-packages) is warmed by README's
    recipe (its worker processes save different signatures of the same kernels
    at once) while a cold fit saves into the same folder; an uncached fit runs
    alongside. Another user then fits from the read-only copy with 0 compiles;
    train_epochs's machine code is zeroed there and a process that only reads
    it recompiles that one kernel into its own folder. Every fit's weights
    equal the uncached fit's, bit for bit."""
    site = base / "site-packages"
    installed = site / "fastmlp"
    shutil.copytree(
        Path(_jit.__file__).parent,
        installed,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    kernels_cache = installed / "_kernels" / "__pycache__"
    env = child_env(PYTHONPATH=site)
    assignment, command = RECIPE.split(" python ", 1)
    recipe_env = dict(env, **dict([assignment.split("=")]))
    recipe = subprocess.Popen(
        [sys.executable, *command.split()],
        env=recipe_env,
        cwd=base,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    procs = [
        recipe,
        python_in_child(FIT, dict(env, FASTMLP_CACHE_SYSTEM="1"), cwd=base),
        python_in_child(FIT, dict(env, FASTMLP_CACHE="0"), cwd=base),
    ]
    _, err = procs[0].communicate(timeout=500)
    assert procs[0].returncode == 0 and "Traceback" not in err, err[-3000:]
    cold, uncached = (finish(p, timeout=500) for p in procs[1:])
    assert cold["package"] == uncached["package"] == str(installed / "_cache.py")
    assert cold["digest"] == uncached["digest"]
    assert cold["misses"] > 0 and (uncached["hits"], uncached["misses"]) == (0, 0)
    assert "CacheWarning" not in cold["warnings"]
    # Both processes saved the same kernels at once: every kernel the fit
    # compiled has a manifest, and every manifest lists files that match it.
    manifests = list(kernels_cache.glob("*.nbm"))
    assert (
        cold["compiled"]
        and {
            name
            for name in cold["compiled"]
            if not list(kernels_cache.glob(f"{name}-*.nbm"))
        }
        == set()
    )
    for manifest in manifests:
        for name, digest in json.loads(manifest.read_text())["files"].items():
            assert (
                hashlib.sha256((kernels_cache / name).read_bytes()).hexdigest()
                == digest
            )
    read_only(installed)

    prefix, uid = other_user
    home = home_for(base, uid, "home-image-user", writable=False)
    user = finish(
        python_in_child(
            FIT, dict(env, HOME=str(home), USER="u", LOGNAME="u"), prefix, base
        )
    )
    assert user["digest"] == uncached["digest"]
    assert user["misses"] == 0 and user["train_epochs"] == [1, 0]
    assert "CacheWarning" not in user["warnings"]

    for data in kernels_cache.glob("network.train_epochs-*.nbc"):  # every dtype
        os.chmod(data, 0o644)
        _zeros_in_code(data)
    damaged_bytes = our_files(kernels_cache)
    primary = base / "image-primary"
    damaged = finish(
        python_in_child(FIT, child_env(primary, PYTHONPATH=site), cwd=base), 500
    )
    assert damaged["digest"] == uncached["digest"]
    assert damaged["train_epochs"] == [0, 1] and damaged["misses"] == 1
    assert our_files(kernels_cache) == damaged_bytes  # read, never rewritten
    (saved,) = primary.rglob("*.nbm")
    assert saved.name.startswith("network.train_epochs-")

    again = finish(python_in_child(FIT, child_env(primary, PYTHONPATH=site), cwd=base))
    assert again["digest"] == uncached["digest"]
    assert again["misses"] == 0 and again["train_epochs"] == [1, 0]
