"""``python -m fastmlp``: the demo, the kernel warm-up and the kernel cache.

    python -m fastmlp [demo] [--hidden ...] [--solver ...] ...   (the default)
    python -m fastmlp warmup [--jobs N] [--quiet]
    python -m fastmlp cache {info,clear}

``demo`` trains ``fastmlp.MLPClassifier`` and ``sklearn.neural_network.MLPClassifier``
with the same parameters and ``random_state`` on scikit-learn's digits data
(bundled, no download), and prints held-out accuracy and fit time (median of
repeats, after one warm-up fit that also pays Numba's one-off compile).
``warmup`` compiles, or loads from the on-disk cache, every kernel any fit,
predict or jacobian can use (see ``fastmlp._warmup``). ``cache`` shows or empties
the folders of that cache.
"""

import argparse
import sys
import time
import warnings

import numpy as np

COMMANDS = ("demo", "warmup", "cache")


def _median_fit_time(make, X, y, repeats):
    times = []
    model = None
    for _ in range(repeats):
        model = make()
        start = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - start)
    return model, float(np.median(times))


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m fastmlp",
        description="fastmlp's demo (the default command), kernel warm-up and "
        "kernel cache.",
        epilog="Without a command, runs demo: `python -m fastmlp --solver sgd` is "
        "`python -m fastmlp demo --solver sgd`.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{demo,warmup,cache}")

    demo = sub.add_parser(
        "demo",
        help="train on bundled digits beside scikit-learn and compare (default)",
        description="Train fastmlp and scikit-learn's MLPClassifier on scikit-learn's "
        "bundled digits data; print accuracy and fit time.",
    )
    demo.add_argument(
        "--hidden",
        type=int,
        nargs="+",
        default=[100],
        help="hidden layer sizes (default: 100)",
    )
    demo.add_argument("--solver", choices=["adam", "sgd", "lbfgs"], default="adam")
    demo.add_argument("--max-iter", type=int, default=100)
    demo.add_argument("--batch-size", default="auto")
    demo.add_argument("--repeats", type=int, default=3)
    demo.add_argument("--dtype", choices=["float32", "float64"], default="float32")

    from ._warmup import default_jobs

    warm = sub.add_parser(
        "warmup",
        help="compile (or load from cache) every kernel, in parallel workers",
        description="Compile, or load from Numba's on-disk cache, the kernels of "
        "every fit, partial_fit, predict, score and jacobian: float32 and float64, "
        "dense and sparse (CSR) input, every solver. Compiling happens once per "
        "machine and fastmlp version.",
    )
    warm.add_argument(
        "--jobs",
        "-j",
        type=_positive_int,
        default=default_jobs(),
        help="worker processes (default: the number of cores, %(default)s here)",
    )
    warm.add_argument(
        "--quiet", "-q", action="store_true", help="print nothing unless it fails"
    )

    cache = sub.add_parser(
        "cache",
        help="show or empty the on-disk kernel cache",
        description="Show or empty the folders where Numba caches fastmlp's "
        "compiled kernels.",
    )
    cache.add_argument(
        "action",
        choices=["info", "clear"],
        help="info: folders (in lookup order), files and size; clear: delete the "
        "cached kernels",
    )
    return parser


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_args(argv=None):
    """Parsed arguments; a command line without a command is the demo's."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv.insert(0, "demo")
    return build_parser().parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from ._notice import cli_logging

    with cli_logging():  # the "compiling ..." notices, printed to stderr
        if args.command == "warmup":
            return run_warmup(args.jobs, args.quiet)
        if args.command == "cache":
            return run_cache(args.action)
        return run_demo(args)


def run_warmup(jobs, quiet=False, out=None):
    from ._warmup import warmup

    out = sys.stdout if out is None else out

    def say(text):
        if not quiet:
            print(text, file=out, flush=True)

    def report(done, total, result):
        if result["compiled"]:
            how = f"compiled {result['compiled']} kernel signatures"
        elif result["loaded"]:
            how = "loaded from the on-disk cache"
        else:
            how = "already loaded"
        say(f"[{done}/{total}] {result['group']}: {result['seconds']:.1f} s ({how})")

    say(
        f"fastmlp warmup: compiling, or loading from the on-disk cache, every kernel "
        f"(float64/float32, dense/sparse input) in {jobs} worker "
        f"process{'es' if jobs > 1 else ''}; compiling takes 20-40 s on 2 cores, "
        f"once per machine and fastmlp version"
    )
    start = time.perf_counter()
    try:
        results = warmup(jobs=jobs, report=report)
    except Exception as exc:  # a worker's error, re-raised here
        print(f"fastmlp warmup failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    total = time.perf_counter() - start
    compiled = sum(r["compiled"] for r in results)
    say(
        f"warmup done: {len(results)} groups in {total:.1f} s"
        + (f", {compiled} kernel signatures compiled and cached" if compiled else "")
    )
    return 0


def run_cache(action, out=None):
    """``cache info``: the folders fastmlp._cache looks up, in order, with what
    they hold; ``cache clear``: delete this install's kernel cache."""
    import importlib

    _cache = importlib.import_module(f"{__package__ or 'fastmlp'}._cache")
    out = sys.stdout if out is None else out
    if action == "info":
        print("fastmlp kernel cache folders, in lookup order:", file=out)
        for folder in map(str, _cache.cache_dirs()):
            print(f"  {folder}: {_describe_folder(folder)}", file=out)
        return 0
    print(f"cleared the kernel cache{_removed(_cache.clear())}", file=out)
    return 0


def _removed(result):
    if isinstance(result, int) and not isinstance(result, bool):
        return f" ({result} files removed)"
    return ""


def _describe_folder(folder):
    from pathlib import Path

    path = Path(folder)
    if not path.is_dir():
        return "absent"
    files = [p for p in path.iterdir() if p.suffix in (".nbi", ".nbc")]
    size = sum(p.stat().st_size for p in files)
    n_index = sum(p.suffix == ".nbi" for p in files)
    return (
        f"{n_index} kernels, {len(files) - n_index} compiled signatures, "
        f"{size / 2**20:.1f} MiB"
    )


def run_demo(args):
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier as SkMLPClassifier

    import fastmlp

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(args.dtype)  # pixel values 0..16 scaled to [0, 1]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    batch_size = args.batch_size if args.batch_size == "auto" else int(args.batch_size)
    params = dict(
        hidden_layer_sizes=tuple(args.hidden),
        solver=args.solver,
        max_iter=args.max_iter,
        batch_size=batch_size,
        random_state=0,
    )
    print(
        f"digits: {X_train.shape[0]} train / {X_test.shape[0]} test samples, "
        f"{X.shape[1]} features, 10 classes, {args.dtype}"
    )
    print(f"MLPClassifier({', '.join(f'{k}={v!r}' for k, v in params.items())})\n")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        fastmlp.MLPClassifier(**params).fit(X_train, y_train)
        first = time.perf_counter() - start
        ours, t_ours = _median_fit_time(
            lambda: fastmlp.MLPClassifier(**params), X_train, y_train, args.repeats
        )
        theirs, t_theirs = _median_fit_time(
            lambda: SkMLPClassifier(**params), X_train, y_train, args.repeats
        )

    acc_ours = ours.score(X_test, y_test)
    acc_theirs = theirs.score(X_test, y_test)
    rows = [
        ("fastmlp", acc_ours, t_ours, ours.n_iter_),
        ("scikit-learn", acc_theirs, t_theirs, theirs.n_iter_),
    ]
    print(f"| {'model':<12} | accuracy | fit time (s) | epochs |")
    print(f"|{'-' * 14}|----------|--------------|--------|")
    for name, acc, t, n_iter in rows:
        print(f"| {name:<12} | {acc:8.4f} | {t:12.4f} | {n_iter:6d} |")
    print(f"\nspeed-up: {t_theirs / t_ours:.1f}x (median of {args.repeats} fits each)")
    print(f"accuracy difference: {acc_ours - acc_theirs:+.4f}")
    print(
        f"first fastmlp fit in this process, including Numba compile or cache "
        f"load: {first:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
