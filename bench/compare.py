"""fastmlp beside scikit-learn and PyTorch on the benchmark workloads.

    python bench/compare.py                      # W1-W9, 3 repeats (W8: 7)
    python bench/compare.py --workloads W1 W4 --repeats 5
    python bench/compare.py --workloads W8 W9    # the small-data rows only
    python bench/compare.py --quick              # 1/10 of the samples, 1 repeat
    python bench/compare.py --plot curve.png     # also the batch-size U-curve

Contenders run interleaved (fastmlp, scikit-learn, torch, fastmlp, ...) and each
time is the median of the repeats, after one untimed fastmlp fit that pays Numba's
compile. Every contender trains exactly the workload's epochs (tol=0). PyTorch is
optional: without it its columns read "-". Prints a markdown table of times,
speed-ups and final training loss / held-out score, and the share of the
single-core and all-core OpenBLAS sgemm ceiling that fastmlp reaches on W3.

W8 (scikit-learn's bundled data sets, default parameters, so fits may stop
early) times fastmlp with its default n_jobs, fastmlp with n_jobs=1 and
scikit-learn, interleaved, at least 7 repeats with a 0.05 s settle, and adds a
table of median / min / max and the default / n_jobs=1 ratio (target <= 1.10x);
its score is the training-set score. W9 times a whole GridSearchCV call at
search n_jobs 1 and 2, after one untimed search per configuration; its score is
best_score_. --quick: W8 with 3 repeats, W9 with cv=3 and a 2x2 grid.
"""

import argparse
import os
import platform
import sys
import time
import warnings

# PyTorch first, when installed: if scikit-learn's bundled libgomp is loaded
# before torch's, torch's OpenMP regions run 3-6x slower here (W1: 6.5 s instead
# of 1.1-2.0 s, whether or not fastmlp is imported), which would flatter us.
try:
    import torch  # noqa: F401
except ImportError:
    pass

import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from workloads import (  # noqa: E402
    W8,
    W8_NJOBS1_TARGET,
    W8_REPEATS,
    W8_SETTLE,
    WORKLOADS,
    predict_data,
    w9_workloads,
)

import fastmlp  # noqa: E402


def sklearn_class(task):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    return MLPClassifier if task == "clf" else MLPRegressor


def fastmlp_class(task):
    return fastmlp.MLPClassifier if task == "clf" else fastmlp.MLPRegressor


# ---------------------------------------------------------------- PyTorch
def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


class TorchMLP:
    """The same network, loss and optimizer as scikit-learn's, as a plain PyTorch
    training loop over pre-shuffled index blocks, float32, all cores.

    scikit-learn's L2 term alpha * ||W||^2 / (2 * batch) becomes weight_decay =
    alpha / batch on the weights only. Adam: scikit-learn adds epsilon to sqrt(v)
    before bias correction, PyTorch after; with epsilon = 1e-8 the difference is
    negligible and ignored."""

    def __init__(self, workload, epochs=None):
        self.w = workload
        self.epochs = workload.epochs if epochs is None else epochs

    def fit(self, X, y):
        import torch

        torch.set_num_threads(os.cpu_count())
        torch.manual_seed(0)
        w = self.w
        X = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        if w.task == "clf":
            self.classes_, yi = np.unique(y, return_inverse=True)
            Y = torch.from_numpy(yi.astype(np.int64))
            n_out = len(self.classes_)
            loss_fn = torch.nn.CrossEntropyLoss()
        else:
            Y = torch.from_numpy(np.asarray(y, dtype=np.float32).reshape(-1, 1))
            n_out = 1

            def loss_fn(p, t):
                return 0.5 * torch.mean((p - t) ** 2)

        act = {
            "relu": torch.nn.ReLU,
            "tanh": torch.nn.Tanh,
            "logistic": torch.nn.Sigmoid,
            "identity": torch.nn.Identity,
        }
        layers, fan_in = [], X.shape[1]
        for h in w.hidden:
            layers += [torch.nn.Linear(fan_in, h), act[w.activation]()]
            fan_in = h
        layers.append(torch.nn.Linear(fan_in, n_out))
        self.model = model = torch.nn.Sequential(*layers)
        batch = w.batch_size
        alpha = w.extra.get("alpha", 1e-4)
        weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
        biases = [p for n, p in model.named_parameters() if n.endswith("bias")]
        groups = [
            {"params": weights, "weight_decay": alpha / batch},
            {"params": biases, "weight_decay": 0.0},
        ]
        lr = w.extra.get("learning_rate_init", 1e-3)
        if w.solver == "adam":
            opt = torch.optim.Adam(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8)
        else:
            momentum = w.extra.get("momentum", 0.9)
            opt = torch.optim.SGD(
                groups,
                lr=lr,
                momentum=momentum,
                nesterov=w.extra.get("nesterovs_momentum", True) and momentum > 0,
            )
        n = X.shape[0]
        gen = torch.Generator().manual_seed(0)
        for _ in range(self.epochs):
            perm = torch.randperm(n, generator=gen)
            total = 0.0
            for start in range(0, n, batch):
                idx = perm[start : start + batch]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(X[idx]), Y[idx])
                loss.backward()
                opt.step()
                total += loss.item() * idx.shape[0]
            self.loss_ = total / n
        return self

    def predict_raw(self, X):
        import torch

        with torch.no_grad():
            return self.model(torch.from_numpy(np.ascontiguousarray(X, np.float32)))

    def score(self, X, y):
        out = self.predict_raw(X).numpy()
        if self.w.task == "clf":
            return float(np.mean(self.classes_[out.argmax(1)] == y))
        from sklearn.metrics import r2_score

        return r2_score(y, out.ravel())

    def predict_proba(self, X):
        import torch

        return torch.softmax(self.predict_raw(X), dim=1).numpy()


# ---------------------------------------------------------------- timing
def timed(fn, settle=0.5):
    """(seconds, result) of fn(). Sleeps ``settle`` seconds first: OpenMP and
    OpenBLAS workers spin for a while after a call, and a contender started
    right after another library's call shared the cores with them (W7: fastmlp
    0.89 s right after torch, 0.68 s on its own)."""
    time.sleep(settle)
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run_workload(w, repeats, scale, use_torch):
    X_train, X_test, y_train, y_test = w.data(scale)
    makers = {
        "fastmlp": lambda: fastmlp_class(w.task)(**w.params()),
        "sklearn": lambda: sklearn_class(w.task)(**w.params()),
    }
    if use_torch and w.solver != "lbfgs":
        makers["torch"] = lambda: TorchMLP(w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fastmlp_class(w.task)(**w.params(epochs=1)).fit(X_train[:500], y_train[:500])
        times = {k: [] for k in makers}
        models = {}
        for _ in range(repeats):
            for name, make in makers.items():
                t, models[name] = timed(lambda: make().fit(X_train, y_train))
                times[name].append(t)
    row = {"workload": w.id}
    for name, model in models.items():
        row[name] = float(np.median(times[name]))
        row[name + "_loss"] = getattr(model, "loss_", float("nan"))
        row[name + "_score"] = model.score(X_test, y_test)
    flop = 6.0 * w.n_weights() * X_train.shape[0] * w.epochs
    row["gflops"] = flop / row["fastmlp"] / 1e9 if w.solver != "lbfgs" else None
    return row, models


def run_predict(w3_models, repeats, scale, use_torch):
    X = predict_data(max(1000, int(100_000 * scale)))
    fns = {
        "fastmlp": lambda: w3_models["fastmlp"].predict_proba(X),
        "sklearn": lambda: w3_models["sklearn"].predict_proba(X),
    }
    if use_torch and "torch" in w3_models:
        fns["torch"] = lambda: w3_models["torch"].predict_proba(X)
    for fn in fns.values():
        fn()
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(timed(fn)[0])
    row = {"workload": "W7 predict"}
    for name in fns:
        row[name] = float(np.median(times[name]))
    return row


def run_bundled(w, repeats, settle=W8_SETTLE):
    """W8: one bundled data set. Each repeat fits fastmlp (default n_jobs),
    fastmlp n_jobs=1 and scikit-learn in turn, ``settle`` seconds apart, after
    one untimed fit of each (fastmlp's pays the compile or the cache load)."""
    X, y = w.data()
    makers = {
        "fastmlp": lambda: fastmlp_class(w.task)(**w.params()),
        "fastmlp_nj1": lambda: fastmlp_class(w.task)(**w.params(n_jobs=1)),
        "sklearn": lambda: sklearn_class(w.task)(**w.params()),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for make in makers.values():
            make().fit(X, y)
        times = {k: [] for k in makers}
        models = {}
        for _ in range(repeats):
            for name, make in makers.items():
                t, models[name] = timed(lambda: make().fit(X, y), settle)
                times[name].append(t)
    row = {"workload": w.id, "shape": X.shape, "times": times}
    for name, model in models.items():
        row[name] = float(np.median(times[name]))
        row[name + "_loss"] = model.loss_
        row[name + "_score"] = model.score(X, y)  # training-set score
        row[name + "_n_iter"] = model.n_iter_
    return row


def run_search(w, repeats):
    """W9: the whole GridSearchCV call as a user sees it, fastmlp and
    scikit-learn interleaved, after one untimed search of each: that one fills
    Numba's on-disk cache and, at n_jobs=2, starts the loky workers (which load
    the kernels from that cache) that the timed searches then reuse."""
    X, y = w.data()
    makers = {
        "fastmlp": lambda: w.search(fastmlp.MLPClassifier),
        "sklearn": lambda: w.search(sklearn_class("clf")),
    }
    warm, times, searches = {}, {k: [] for k in makers}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, make in makers.items():
            warm[name] = timed(lambda: make().fit(X, y))[0]
        for _ in range(repeats):
            for name, make in makers.items():
                t, searches[name] = timed(lambda: make().fit(X, y))
                times[name].append(t)
    row = {"workload": w.id, "warmup": warm, "n_fits": w.n_fits()}
    for name, gs in searches.items():
        row[name] = float(np.median(times[name]))
        row[name + "_score"] = gs.best_score_
        row[name + "_best"] = gs.best_params_
    return row


def sgemm_ceiling(threads):
    """OpenBLAS sgemm GFLOP/s on W3's forward shape (128x784 . 784x512)."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    A = rng.standard_normal((128, 784)).astype(np.float32)
    B = rng.standard_normal((784, 512)).astype(np.float32)
    with threadpool_limits(threads):
        A @ B
        ts = [timed(lambda: A @ B)[0] for _ in range(50)]
    return 2 * 128 * 784 * 512 / np.median(ts) / 1e9


def fmt(x, spec=".3f"):
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "-"
    return format(x, spec)


def ratio(theirs, ours):
    return "-" if not theirs or not ours else f"{theirs / ours:.1f}x"


def print_table(rows, use_torch):
    print(
        "| workload | fastmlp (s) | scikit-learn (s) | torch (s) | vs scikit-learn "
        "| vs torch | loss fastmlp / sklearn / torch | score fastmlp / sklearn "
        "/ torch |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        ours, sk, th = r.get("fastmlp"), r.get("sklearn"), r.get("torch")
        print(
            f"| {r['workload']} | {fmt(ours)} | {fmt(sk)} | {fmt(th)} | "
            f"{ratio(sk, ours)} | {ratio(th, ours)} | "
            f"{fmt(r.get('fastmlp_loss'), '.4f')} / {fmt(r.get('sklearn_loss'), '.4f')}"
            f" / {fmt(r.get('torch_loss'), '.4f')} | "
            f"{fmt(r.get('fastmlp_score'), '.4f')} / "
            f"{fmt(r.get('sklearn_score'), '.4f')} / {fmt(r.get('torch_score'), '.4f')} |"
        )


def spread(ts):
    return f"{np.median(ts):.4f} [{min(ts):.4f}-{max(ts):.4f}]"


def print_w8_table(rows):
    print(
        "\nW8, seconds per fit: median [min-max] of the repeats; the ratio is "
        "fastmlp's default n_jobs over n_jobs=1 (target <= "
        f"{W8_NJOBS1_TARGET:.2f}x); n_iter_: epochs each ran (tol stops early).\n"
    )
    print(
        "| workload | samples x features | fastmlp (s) | fastmlp n_jobs=1 (s) "
        "| scikit-learn (s) | default / n_jobs=1 | n_iter_ fastmlp / n_jobs=1 "
        "/ sklearn |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        t = r["times"]
        q = r["fastmlp"] / r["fastmlp_nj1"]
        flag = "" if q <= W8_NJOBS1_TARGET else " (over target)"
        print(
            f"| {r['workload']} | {r['shape'][0]} x {r['shape'][1]} | "
            f"{spread(t['fastmlp'])} | {spread(t['fastmlp_nj1'])} | "
            f"{spread(t['sklearn'])} | {q:.2f}x{flag} | {r['fastmlp_n_iter']} / "
            f"{r['fastmlp_nj1_n_iter']} / {r['sklearn_n_iter']} |"
        )


def print_w9_notes(rows):
    print(
        "\nW9: time of the whole GridSearchCV call (score: best_score_); the "
        "first, untimed search of each configuration (which fills the Numba "
        "cache and starts the loky workers that later searches reuse) took:"
    )
    for r in rows:
        print(
            f"- {r['workload']} ({r['n_fits']} fits): first search fastmlp "
            f"{r['warmup']['fastmlp']:.2f} s, scikit-learn "
            f"{r['warmup']['sklearn']:.2f} s; best_params_ fastmlp "
            f"{r['fastmlp_best']}, scikit-learn {r['sklearn_best']}"
        )


def batch_size_curve(path, scale):
    """Time per epoch against batch size (1, 2, 4, ..., 4096) on W1's network."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w = WORKLOADS["W1"]
    X, _, y, _ = w.data(scale * 0.2)
    sizes = [2**k for k in range(13)]
    curves = {"fastmlp": [], "sklearn": []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        for b in sizes:
            p = dict(w.params(epochs=1), batch_size=b)
            fastmlp_class("clf")(**p).fit(X[:50], y[:50])
            for name, cls in (
                ("fastmlp", fastmlp_class("clf")),
                ("sklearn", sklearn_class("clf")),
            ):
                curves[name].append(timed(lambda: cls(**p).fit(X, y))[0])
    print(
        f"\nBatch-size curve, W1 network, {X.shape[0]} samples, time per epoch (s):\n"
    )
    print("| batch | fastmlp | scikit-learn | ratio |")
    print("|---|---|---|---|")
    for b, a, s in zip(sizes, curves["fastmlp"], curves["sklearn"]):
        print(f"| {b} | {a:.4f} | {s:.4f} | {s / a:.1f}x |")
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, ys in curves.items():
        ax.loglog(sizes, ys, "o-", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("batch size")
    ax.set_ylabel("time per epoch (s)")
    ax.set_title(f"W1 network, {X.shape[0]} samples")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workloads",
        nargs="+",
        default=["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "W9"],
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1/10 of the samples and one repeat; W8 3 repeats, W9 cv=3 and a 2x2 grid",
    )
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--plot", metavar="PNG", help="also draw the batch-size curve")
    args = parser.parse_args(argv)
    scale = 0.1 if args.quick else 1.0
    repeats = 1 if args.quick else args.repeats
    w8_repeats = 3 if args.quick else max(W8_REPEATS, args.repeats)
    use_torch = not args.no_torch and torch_available()

    import numba
    import sklearn

    print(
        f"# fastmlp {fastmlp.__version__}, scikit-learn {sklearn.__version__}, "
        f"numba {numba.__version__}, torch "
        f"{__import__('torch').__version__ if use_torch else 'not installed'}; "
        f"{platform.machine()}, {os.cpu_count()} cpus; median of {repeats}"
        f"{f' (W8: {w8_repeats})' if 'W8' in args.workloads else ''}\n"
    )
    rows, w3_models, w8_rows, w9_rows = [], None, [], []
    for key in args.workloads:
        if key in ("W7", "W8", "W9"):
            continue
        row, models = run_workload(WORKLOADS[key], repeats, scale, use_torch)
        rows.append(row)
        if key == "W3":
            w3_models = models
        print(f"  done {row['workload']}", file=sys.stderr)
    if "W7" in args.workloads:
        if w3_models is None:
            _, w3_models = run_workload(WORKLOADS["W3"], 1, scale * 0.1, use_torch)
        rows.append(run_predict(w3_models, repeats, scale, use_torch))
    if "W8" in args.workloads:
        for w in W8:
            w8_rows.append(run_bundled(w, w8_repeats))
            print(f"  done {w.id}", file=sys.stderr)
    if "W9" in args.workloads:
        for w in w9_workloads(args.quick):
            w9_rows.append(run_search(w, repeats))
            print(f"  done {w.id}", file=sys.stderr)
    rows += w8_rows + w9_rows
    print_table(rows, use_torch)
    if w8_rows:
        print("\nW8 score: training-set score (a speed row, fitted on all rows).")
        print_w8_table(w8_rows)
    if w9_rows:
        print_w9_notes(w9_rows)

    w3 = next((r for r in rows if r["workload"].startswith("W3")), None)
    if w3 is not None:
        one, every = sgemm_ceiling(1), sgemm_ceiling(os.cpu_count())
        print(
            f"\nW3: fastmlp {w3['gflops']:.1f} GFLOP/s (6 x weights x samples x "
            f"epochs / time) = {100 * w3['gflops'] / one:.0f}% of one core's OpenBLAS"
            f" sgemm ({one:.1f} GFLOP/s), {100 * w3['gflops'] / every:.0f}% of all "
            f"{os.cpu_count()} cores' ({every:.1f} GFLOP/s)"
        )
    for r in rows:
        if r.get("gflops") and not r["workload"].startswith("W3"):
            print(f"{r['workload']}: fastmlp {r['gflops']:.1f} GFLOP/s")
    if args.plot:
        batch_size_curve(args.plot, scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())
