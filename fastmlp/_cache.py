"""fastmlp's on-disk cache of compiled kernels: layered, verified, locked.

Numba's own cache (``njit(cache=True)``) raises when it finds no writable folder,
unpickles damaged files (``EOFError``, or a segfault on a garbled object file),
ignores a read-only cache warmed by someone else, writes into ``site-packages``
(left behind by ``pip uninstall``), and lets two processes that save different
signatures of one function at once point the index at each other's data. Every
kernel ``_jit`` caches gets a :class:`LayeredCache` instead, which keeps Numba's
file format (``<module>.<function>-<line>.py311.nbi`` index, ``.<n>.nbc`` data)
and adds:

Layers
    Entries are looked up in order in

    1. the *primary* folder: ``$NUMBA_CACHE_DIR/fastmlp/<key>`` when
       ``NUMBA_CACHE_DIR`` is set, otherwise the per-user cache
       ``$XDG_CACHE_HOME/fastmlp/<key>`` (default ``~/.cache/fastmlp/<key>``);
       ``<key>`` is fastmlp's version and a hash of the install path, Numba and
       Python versions, so two installs never share or purge each other's files;
    2. the *package* folder ``fastmlp/_kernels/__pycache__``, read even when it
       is read-only (a cache an image build warmed as root serves every user).

    New entries are saved to the primary folder only. The package folder is
    written only in *system* mode (``FASTMLP_CACHE_SYSTEM=1`` or
    ``set_system(True)``), where it is the one folder looked up and saved to, so
    an image build fills it even if its own per-user cache is warm. Nothing is
    written into the installed package otherwise. With no writable save folder
    the kernels run uncached (each process compiles them again) and one
    :class:`CacheWarning` (also logged on the ``fastmlp.cache`` logger) names the
    fix, ``NUMBA_CACHE_DIR``.

Manifest
    After each save, ``<base>.nbm`` (JSON) records the SHA-256 of the index and
    of every data file it points at, with the Numba version and the stamp of
    fastmlp's kernel sources. A load reads the manifest, reads each file's bytes
    once, checks them against it, and only then unpickles those same bytes;
    anything that does not match (truncated, emptied, garbled, zeroed, swapped,
    half-written by a killed process, stale) is a miss: the kernel is compiled
    and saved again. A checksum costs about 2 ms per MB, once per kernel and
    process.

Lock
    A save holds an exclusive ``fcntl.flock`` on the folder's stamp file
    (``fastmlp-sources.stamp``) while it reads the index, picks the data file's
    name, and writes data, index and manifest, each to a temporary file moved
    into place with ``os.replace``. Saves from several processes are thereby
    serialised, so none reuses another's data name; loads take no lock (they
    work on read-only folders) and rely on the checksums.

Stale sources
    Numba keys an entry on the mtime of the function's own file only, but a
    compiled caller embeds its callees from other files. The stamp file holds a
    hash of every kernel source (``_sources_stamp``): a folder whose stamp
    differs is not read, and the first save of a process into such a folder
    empties it first. A folder that is only read is never emptied.

Functions for users and the command line (``python -m fastmlp cache info`` and
``cache clear`` call :func:`cache_dirs` and :func:`clear`): :func:`cache_dirs`,
:func:`cache_info`, :func:`clear`, :func:`set_system`, :func:`kernel_stats`; and
``LayeredCache.in_cache(sig, codegen)`` (whether a signature would load).

Environment variables (read here; ``FASTMLP_CACHE=0`` in ``_jit`` turns all of
this off):

``NUMBA_CACHE_DIR``
    Numba's setting, read through ``numba.config``: when set, the primary folder
    is ``$NUMBA_CACHE_DIR/fastmlp/<key>`` instead of the per-user cache.
``XDG_CACHE_HOME``
    Base of the per-user cache on Linux (default ``~/.cache``); macOS and Windows
    use their platform's cache folder.
``FASTMLP_CACHE_SYSTEM``
    ``"1"``: system mode, for image builds run by the package's owner (above).
"""

import contextlib
import functools
import hashlib
import inspect
import io
import json
import logging
import os
import pickle
import sys
import threading
import time
import uuid
import warnings
import weakref
from collections import namedtuple
from pathlib import Path

import numba
from numba.core import caching, config
from numba.core.serialize import dumps

try:  # POSIX; elsewhere saves are not serialised (checksums still guard loads)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

log = logging.getLogger("fastmlp.cache")
# A library logs to its own logger and leaves handlers to the application; the
# NullHandler keeps Python's last-resort handler from printing records twice
# (the warning below is already shown through ``warnings``).
logging.getLogger("fastmlp").addHandler(logging.NullHandler())


class CacheWarning(RuntimeWarning):
    """Compiled kernels cannot be saved: every new process compiles them again."""


_PACKAGE_DIR = os.path.dirname(os.path.realpath(__file__))
_STAMP_FILE = "fastmlp-sources.stamp"
_MANIFEST_FORMAT = 1
_SUFFIXES = (".nbi", ".nbc", ".nbm")
_LOCK_TIMEOUT_S = 60.0

_system = os.environ.get("FASTMLP_CACHE_SYSTEM", "0") not in ("", "0")

_state_lock = threading.RLock()
_fresh_folders = set()  # folders whose stamp matched (or was written) this process
_save_checked = {}  # save folder -> None (usable) or the OSError that stops it
_warned = False
_save_error_logged = False
_attached = weakref.WeakSet()


# --------------------------------------------------------------------------- stamps


def _sources_stamp():
    """Hash of every kernel source file and the Numba version.

    Numba keys a cache entry on the mtime of the function's own file only, but a
    compiled caller embeds its callees from other files (train_epochs holds the
    GEMM); an edit to gemm.py would leave a stale train_epochs in the cache."""
    here = Path(_PACKAGE_DIR)
    digest = hashlib.sha1(numba.__version__.encode())
    for path in [here / "_jit.py", *sorted((here / "_kernels").glob("*.py"))]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


_stamp_memo = []


def _current_stamp():
    """``_sources_stamp()`` once per process (a few ms)."""
    if not _stamp_memo:
        _stamp_memo.append(_sources_stamp())
    return _stamp_memo[0]


@functools.cache
def _install_key():
    from . import __version__

    ident = "\0".join(
        [
            _PACKAGE_DIR,
            numba.__version__,
            sys.implementation.cache_tag or "",
            sys.abiflags,
        ]
    )
    return f"{__version__}-{hashlib.sha1(ident.encode()).hexdigest()[:12]}"


# --------------------------------------------------------------------------- layers


class _Layer(namedtuple("_Layer", "role root")):
    """A cache location: ``root`` holds one sub-folder per kernel source folder;
    the package layer (root ``None``) is each source folder's ``__pycache__``."""

    def folder(self, source_dir):
        if self.root is None:
            return os.path.join(source_dir, "__pycache__")
        return os.path.join(self.root, _subpath(source_dir))


def _subpath(source_dir):
    rel = os.path.relpath(source_dir, _PACKAGE_DIR)
    if rel != os.pardir and not rel.startswith(os.pardir + os.sep):
        return rel  # "_kernels"
    # A kernel defined outside fastmlp (a test's): Numba's naming.
    parent = os.path.basename(source_dir)
    return f"{parent}_{hashlib.sha1(source_dir.encode()).hexdigest()[:12]}"


def _user_root():
    """Base of the per-user cache, or None where there is no usable home."""
    if os.name == "nt" or sys.platform == "darwin":  # pragma: no cover
        from numba.misc.appdirs import AppDirs

        base = AppDirs("fastmlp", appauthor=False).user_cache_dir
    else:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        if os.path.isabs(xdg):
            base = os.path.join(xdg, "fastmlp")
        else:  # unset or relative (the XDG spec says to ignore a relative one)
            base = os.path.join(os.path.expanduser("~"), ".cache", "fastmlp")
    # expanduser leaves "~" alone when HOME is unset and the uid has no passwd
    # entry: never cache relative to the working directory.
    return base if os.path.isabs(base) else None


def _primary_layer():
    if config.CACHE_DIR:
        root = os.path.join(os.path.abspath(config.CACHE_DIR), "fastmlp")
        return _Layer("NUMBA_CACHE_DIR", os.path.join(root, _install_key()))
    user = _user_root()
    return _Layer("user", os.path.join(user, _install_key())) if user else None


_PACKAGE_LAYER = _Layer("package", None)


def _lookup_layers():
    if _system:
        return [_PACKAGE_LAYER]
    primary = _primary_layer()
    return [primary, _PACKAGE_LAYER] if primary else [_PACKAGE_LAYER]


def _save_layer():
    return _PACKAGE_LAYER if _system else _primary_layer()


def set_system(enabled=True):
    """Save to (and look up only in) the installed package's own cache folder.

    For image builds and administrators warming a cache that every user of the
    installation reads (``FASTMLP_CACHE_SYSTEM=1`` does the same at import). Call
    it before the kernels compile; the package folder must be writable."""
    global _system
    with _state_lock:
        _system = bool(enabled)


# --------------------------------------------------------------------- file helpers


def _digest(data):
    return hashlib.sha256(data).hexdigest()


def _read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _atomic_write(path, data):
    tmp = f"{path}.tmp.{uuid.uuid4().hex[:16]}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _is_ours(name):
    """Files this module writes into a cache folder (never .pyc or the stamp)."""
    return name.endswith(_SUFFIXES) or any(f"{s}.tmp." in name for s in _SUFFIXES)


def _folder_is_fresh(folder):
    """Whether the folder's stamp matches the current kernel sources. Only a
    match is remembered: an empty folder another process fills later is seen."""
    if folder in _fresh_folders:
        return True
    try:
        with open(os.path.join(folder, _STAMP_FILE)) as f:
            fresh = f.read() == _current_stamp()
    except OSError:
        return False
    if fresh:
        _fresh_folders.add(folder)
    return fresh


def _flock(fd, timeout):
    if fcntl is None:  # pragma: no cover
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"cache folder lock held for over {timeout:.0f} s")
            time.sleep(0.005)


@contextlib.contextmanager
def _locked_folder(folder):
    """Hold the folder's lock (its stamp file); empty the folder first if the
    stamp is stale (once per process and folder). Raises OSError when the
    folder cannot be created or written."""
    os.makedirs(folder, exist_ok=True)
    fd = os.open(os.path.join(folder, _STAMP_FILE), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        _flock(fd, _LOCK_TIMEOUT_S)
        if folder not in _fresh_folders:
            stamp = _current_stamp().encode()
            if os.pread(fd, 4096, 0) != stamp:
                purged = 0
                for entry in os.scandir(folder):
                    if _is_ours(entry.name):
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(entry.path)
                        purged += 1
                os.ftruncate(fd, 0)
                os.pwrite(fd, stamp, 0)
                if purged:
                    log.info(
                        "kernel sources changed: emptied %s (%d files)", folder, purged
                    )
            _fresh_folders.add(folder)
        yield
    finally:
        os.close(fd)  # releases the lock


def _drop_stale(folder):
    """Empty ``folder`` of cache files if its stamp differs from the current
    kernel sources (done by every process's first save into a folder)."""
    with _locked_folder(str(folder)):
        pass


def _usable_save_folder(layer, source_dir):
    """The folder saves go to, or None (after one CacheWarning per process)."""
    global _warned
    folder = layer.folder(source_dir) if layer else None
    with _state_lock:
        if folder is not None and folder not in _save_checked:
            try:
                # Creating and locking the stamp file is the write probe (and
                # empties the folder if its stamp is stale).
                with _locked_folder(folder):
                    pass
                _save_checked[folder] = None
            except TimeoutError as exc:  # another process holds the lock: skip
                log.warning("not saving to %s this time: %s", folder, exc)
                return None
            except OSError as exc:
                _save_checked[folder] = exc
        problem = _save_checked[folder] if folder is not None else "no home folder"
        if problem is None:
            return folder
        if not _warned:
            _warned = True
            _warn_unwritable(layer, folder, problem)
        return None


def _warn_unwritable(layer, folder, problem):
    if layer is not None and layer.role == "package":
        fix = (
            "FASTMLP_CACHE_SYSTEM is set: run the warm-up as the owner of the "
            "installed package, or unset it"
        )
    else:
        fix = (
            "set NUMBA_CACHE_DIR to a writable folder (or FASTMLP_CACHE=0 to run "
            "uncached without this warning)"
        )
    where = f"{folder!r}" if folder else "the per-user cache (no home folder)"
    message = (
        f"fastmlp: cannot write its compile cache to {where} ({problem}); kernels "
        f"compiled in this process are not saved, so each new process compiles "
        f"them again. To fix, {fix}."
    )
    log.warning(message)
    try:
        warnings.warn(message, CacheWarning, stacklevel=2)
    except CacheWarning:
        # Warnings turned into errors must not abort a compile half-way; the
        # message went to the log above.
        pass


# ------------------------------------------------------------------ one kernel's files


def _parse_index(raw, source_stamp):
    """Numba's index format: pickled Numba version, then (stamp, overloads)."""
    f = io.BytesIO(raw)
    if pickle.load(f) != numba.__version__:
        return None
    stamp, overloads = pickle.loads(f.read())
    if stamp != source_stamp or not isinstance(overloads, dict):
        return None
    return overloads


class _Damaged(Exception):
    """A cache file that does not match its manifest (or a manifest that cannot
    be read): the entry is a miss."""


class _Entries:
    """One kernel's files in one folder: ``<base>.nbi`` (Numba's index),
    ``<base>.<n>.nbc`` (one per signature) and ``<base>.nbm`` (the manifest)."""

    def __init__(self, folder, base, source_stamp):
        self.folder = folder
        self.base = base
        self.source_stamp = source_stamp
        self.index_name = base + ".nbi"
        self.manifest_name = base + ".nbm"

    def _path(self, name):
        return os.path.join(self.folder, name)

    def _files(self, raw_manifest):
        """The manifest's {file name: sha256}."""
        try:
            m = json.loads(raw_manifest)
            ok = (
                m["format"] == _MANIFEST_FORMAT
                and m["numba"] == numba.__version__
                and m["sources"] == _current_stamp()
                and isinstance(m["files"], dict)
            )
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            raise _Damaged(self.manifest_name, "unreadable or from other sources")
        return m["files"]

    def _verified(self, files, name):
        """The file's bytes, read once and checked against the manifest."""
        raw = _read_bytes(self._path(name))
        if raw is None:
            raise _Damaged(name, "missing")
        if _digest(raw) != files.get(name):
            raise _Damaged(name, "checksum mismatch")
        return raw

    def _overloads(self, files):
        """Numba's index {key: data file name} (empty if it is for an older
        version of the function's own source file)."""
        raw = self._verified(files, self.index_name)
        try:
            overloads = _parse_index(raw, self.source_stamp)
        except Exception as exc:  # checksummed yet unreadable
            raise _Damaged(self.index_name, repr(exc)) from exc
        return overloads or {}

    def _log_damaged(self, exc):
        name, why = exc.args
        log.warning("ignoring damaged cache file %s (%s)", self._path(name), why)

    def load(self, key):
        """The unpickled entry for ``key``, or None (a miss)."""
        manifest_path = self._path(self.manifest_name)
        for attempt in (1, 2):
            raw_manifest = _read_bytes(manifest_path)
            if raw_manifest is None:
                return None
            try:
                files = self._files(raw_manifest)
                name = self._overloads(files).get(key)
                if name is None:
                    return None
                raw = self._verified(files, name)
            except _Damaged as exc:
                if attempt == 1 and _read_bytes(manifest_path) != raw_manifest:
                    continue  # a save replaced the files between two reads
                self._log_damaged(exc)
                return None
            return pickle.loads(raw)
        return None

    def index(self):
        """{key: absolute data path} of the entries the manifest vouches for."""
        raw_manifest = _read_bytes(self._path(self.manifest_name))
        if raw_manifest is None:
            return {}
        try:
            files = self._files(raw_manifest)
            overloads = self._overloads(files)
        except _Damaged:
            return {}
        paths = {k: self._path(n) for k, n in overloads.items() if n in files}
        return {k: p for k, p in paths.items() if os.path.exists(p)}

    def save(self, key, payload):
        data = dumps(payload)
        with _locked_folder(self.folder):
            raw_manifest = _read_bytes(self._path(self.manifest_name))
            files, overloads = {}, {}
            if raw_manifest is not None:
                try:
                    files = self._files(raw_manifest)
                    overloads = self._overloads(files)
                except _Damaged as exc:  # start this kernel's entries afresh
                    self._log_damaged(exc)
                    files, overloads = {}, {}
            overloads = {k: n for k, n in overloads.items() if n in files}
            name = overloads.get(key)
            if name is None:
                used = set(overloads.values())
                number = 1
                while f"{self.base}.{number}.nbc" in used:
                    number += 1
                name = f"{self.base}.{number}.nbc"
            _atomic_write(self._path(name), data)
            overloads[key] = name
            index = pickle.dumps(numba.__version__, protocol=-1) + dumps(
                (self.source_stamp, overloads)
            )
            _atomic_write(self._path(self.index_name), index)
            new_files = {n: files[n] for n in overloads.values() if n != name}
            new_files[name] = _digest(data)
            new_files[self.index_name] = _digest(index)
            manifest = {
                "format": _MANIFEST_FORMAT,
                "numba": numba.__version__,
                "sources": _current_stamp(),
                "files": new_files,
            }
            _atomic_write(
                self._path(self.manifest_name), json.dumps(manifest, indent=1).encode()
            )

    def forget(self):
        with _locked_folder(self.folder):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path(self.manifest_name))


# ------------------------------------------------------------------- Numba's interface


class _Locator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
    """Numba's source stamp and disambiguator for one function; folders are
    chosen by the layers, not here."""

    def __init__(self, py_func, py_file):
        self._py_func = py_func
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno

    def get_cache_path(self):
        return _save_layer_folder(os.path.dirname(os.path.realpath(self._py_file)))


def _save_layer_folder(source_dir):
    layer = _save_layer()
    return layer.folder(source_dir) if layer else None


class _Impl(caching.CompileResultCacheImpl):
    """Numba's (de)serialisation of compile results, without its locator search
    (which raises when no folder is writable)."""

    def __init__(self, py_func, py_file):
        self._lineno = py_func.__code__.co_firstlineno
        self._locator = _Locator(py_func, py_file)
        qualname = getattr(py_func, "__qualname__", py_func.__name__)
        modname = os.path.splitext(os.path.basename(py_file))[0]
        self._filename_base = self.get_filename_base(
            f"{modname}.{qualname}", getattr(sys, "abiflags", "")
        )


class LayeredCache(caching.Cache):
    """A dispatcher's cache (``dispatcher._cache``): see the module docstring."""

    def __init__(self, py_func):
        py_file = inspect.getfile(py_func)
        if not os.path.isfile(py_file):
            raise ValueError(f"no source file for {py_func!r} ({py_file})")
        self._name = repr(py_func)
        self._py_func = py_func
        self._impl = _Impl(py_func, py_file)
        self._source_dir = os.path.dirname(os.path.realpath(py_file))
        self._source_stamp = self._impl.locator.get_source_stamp()
        self.enable()

    @property
    def cache_path(self):
        """The folder new entries go to (None when there is none)."""
        return _save_layer_folder(self._source_dir)

    _cache_path = cache_path

    def _entries(self, folder):
        return _Entries(folder, self._impl.filename_base, self._source_stamp)

    def _lookup_index(self):
        """{index key: absolute path of its data file} over the lookup folders
        (an earlier folder's entry wins), from verified manifests and indexes."""
        merged = {}
        for layer in reversed(_lookup_layers()):
            folder = layer.folder(self._source_dir)
            with contextlib.suppress(Exception):
                if _folder_is_fresh(folder):
                    merged.update(self._entries(folder).index())
        return merged

    def in_cache(self, sig, codegen):
        """Whether loading ``sig`` would find an entry (a cache hit, unless its
        data file turns out damaged), without loading it."""
        return self._index_key(sig, codegen) in self._lookup_index()

    @property
    def _cache_file(self):
        """Numba's ``Cache._cache_file`` for callers written against it (such as
        ``fastmlp._notice``): ``_load_index()`` is :meth:`_lookup_index`, whose
        absolute paths ``os.path.join(cache._cache_path, name)`` leaves intact."""
        return _IndexView(self)

    def load_overload(self, sig, target_context):
        if not self._enabled:
            return None
        target_context.refresh()
        key = None
        for layer in _lookup_layers():
            folder = layer.folder(self._source_dir)
            try:
                if not _folder_is_fresh(folder):
                    continue
                if key is None:
                    key = self._index_key(sig, target_context.codegen())
                payload = self._entries(folder).load(key)
                if payload is not None:
                    return self._impl.rebuild(target_context, payload)
            except Exception as exc:  # never let a cache file break a fit
                log.warning(
                    "cache entry for %s in %s unusable: %r", self._name, folder, exc
                )
        return None

    def save_overload(self, sig, data):
        global _save_error_logged
        if not self._enabled or not self._impl.check_cachable(data):
            return
        folder = _usable_save_folder(_save_layer(), self._source_dir)
        if folder is None:
            return
        try:
            key = self._index_key(sig, data.codegen)
            self._entries(folder).save(key, self._impl.reduce(data))
        except Exception as exc:  # a full disk, a lock held too long, ...
            if not _save_error_logged:
                _save_error_logged = True
                log.warning("could not save %s to %s: %r", self._name, folder, exc)

    def flush(self):
        folder = self.cache_path
        if folder is not None:
            with contextlib.suppress(OSError):
                self._entries(folder).forget()


class _IndexView:
    def __init__(self, cache):
        self._load_index = cache._lookup_index


def attach(dispatcher):
    """Give a Numba dispatcher a LayeredCache (what ``_jit._njit(cache=True)``
    does). A function without a source file stays uncached.

    The sources' stamp is taken here, while the kernel modules are imported,
    not at the first save: a process whose modules were imported before a
    source edit would otherwise stamp its old code with the new sources' hash
    (seen when a benchmark ran while kernels were being edited)."""
    _current_stamp()
    try:
        dispatcher._cache = LayeredCache(dispatcher.py_func)
    except Exception as exc:
        log.warning("%r is not cached: %r", dispatcher, exc)
        return dispatcher
    _attached.add(dispatcher)
    return dispatcher


# ------------------------------------------------------------------------- public API

CacheDir = namedtuple(
    "CacheDir", "role path lookup save exists writable fresh files bytes"
)
CacheDir.__doc__ = """One cache folder: ``role`` is "NUMBA_CACHE_DIR", "user" or
"package"; ``lookup``/``save``: whether this process reads / writes it; ``fresh``:
its stamp matches the installed kernel sources; ``files``/``bytes``: the cache
files in it."""


_KERNEL_DIRS = [os.path.join(_PACKAGE_DIR, "_kernels")]


def _kernel_source_dirs():
    """fastmlp's kernel folder, and that of any other kernel made in this process."""
    dirs = set(_KERNEL_DIRS)
    dirs.update(c._cache._source_dir for c in list(_attached))
    return sorted(dirs)


def _writable(path):
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent
    return os.access(path, os.W_OK)


def cache_info():
    """Every cache folder of this installation, looked up or not, as
    :class:`CacheDir` records: the primary folder first, then the package's;
    one per kernel source folder (fastmlp's ``_kernels``)."""
    lookup = _lookup_layers()
    save = _save_layer()
    out = []
    for layer in [x for x in (_primary_layer(), _PACKAGE_LAYER) if x is not None]:
        for source_dir in _kernel_source_dirs():
            folder = layer.folder(source_dir)
            entries = []
            with contextlib.suppress(OSError):
                entries = [e for e in os.scandir(folder) if _is_ours(e.name)]
            out.append(
                CacheDir(
                    role=layer.role,
                    path=Path(folder),
                    lookup=layer in lookup,
                    save=layer == save,
                    exists=os.path.isdir(folder),
                    writable=_writable(folder),
                    fresh=_folder_is_fresh(folder),
                    files=len(entries),
                    bytes=sum(e.stat().st_size for e in entries),
                )
            )
    return out


def cache_dirs():
    """The folders kernels are looked up in, in order (``Path`` objects): the
    primary folder (saved to), then the package's (see the module docstring)."""
    return [d.path for d in cache_info() if d.lookup]


def clear(package=False, all_versions=False):
    """Delete cache files; return how many were deleted.

    By default the primary folder of this installation (``NUMBA_CACHE_DIR``'s or
    the per-user one). ``all_versions=True``: every fastmlp cache under the
    per-user base and ``$NUMBA_CACHE_DIR/fastmlp`` (other versions, other
    installs). ``package=True``: also the cache files in the installed package
    (warmed in system mode; clear them before ``pip uninstall``, which leaves
    them behind), never its ``.pyc`` files. Raises ``PermissionError`` for a
    folder this user may not write."""
    import shutil

    removed = 0
    roots = []
    primary = _primary_layer()
    if all_versions:
        if config.CACHE_DIR:
            roots.append(os.path.join(os.path.abspath(config.CACHE_DIR), "fastmlp"))
        if _user_root():
            roots.append(_user_root())
    elif primary is not None:
        roots.append(primary.root)
    for root in roots:
        if os.path.isdir(root):
            removed += sum(len(files) for _, _, files in os.walk(root))
            shutil.rmtree(root)
    if package:
        for source_dir in _kernel_source_dirs():
            folder = _PACKAGE_LAYER.folder(source_dir)
            if not os.path.isdir(folder):
                continue
            for entry in os.scandir(folder):
                if _is_ours(entry.name) or entry.name == _STAMP_FILE:
                    os.unlink(entry.path)
                    removed += 1
    with _state_lock:
        _fresh_folders.clear()
        _save_checked.clear()
    return removed


def kernel_stats():
    """``{kernel name: (cache hits, cache misses)}`` in this process, for every
    cached kernel that has been called (a miss is a compile)."""
    out = {}
    for d in list(_attached):
        hits = sum(d.stats.cache_hits.values())
        misses = sum(d.stats.cache_misses.values())
        if hits or misses:
            name = f"{d.py_func.__module__}.{d.py_func.__qualname__}"
            old = out.get(name, (0, 0))
            out[name] = (old[0] + hits, old[1] + misses)
    return out
