"""The training team (fastmlp/_kernels/team.py) and its tuner (tuner.py).

Bit-identity: the same fits in fresh interpreters with NUMBA_NUM_THREADS 1, 2,
16 and 64 (oversubscribed on a 2-core machine, so members are descheduled
mid-phase and their units taken by others) give the same weights, loss curves
and predictions, byte for byte; the one-thread run is the reference, with no
team at all. The tuner: driven with a synthetic clock whose batch times are
known, it settles on the fastest cap and moves when the costs change.
"""

import json
import textwrap

import numpy as np
import pytest

from fastmlp._kernels import loop, tuner
from fastmlp._kernels.optimizers import SOLVER_SGD
from tests.test_threads import run_script

FITS = textwrap.dedent(
    """
    import hashlib, json, os, warnings
    import numpy as np, scipy.sparse as sp
    import numba
    import fastmlp._solver
    from fastmlp import MLPClassifier, MLPRegressor
    warnings.simplefilter("ignore")
    fastmlp._solver.ALWAYS_LAYERED = os.environ.get("LAYERED") == "1"
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1500, 24))
    y = (X[:, 0] + X[:, 1] ** 2 > 0.8).astype(int) + (X[:, 2] > 0.5)
    Y2 = np.c_[X[:, :3].sum(1), np.tanh(X[:, 3])]
    w = rng.uniform(0.5, 2.0, X.shape[0])
    Xs = sp.random(1500, 200, density=0.05, format="csr", random_state=0)
    ys = (Xs @ rng.standard_normal(200) > 0).astype(int)
    Xp = rng.standard_normal((6000, 24))
    def C(sizes, **kw):
        return MLPClassifier(hidden_layer_sizes=sizes, **kw)
    def R(sizes, **kw):
        return MLPRegressor(hidden_layer_sizes=sizes, **kw)
    cases = {
        "adam_split": (C((96,), batch_size=256, max_iter=4), X, y),
        "sgd_nesterov": (R((64, 32), solver="sgd", batch_size=128, max_iter=3),
                         X, Y2),
        "early_stopping": (C((64,), batch_size=128, max_iter=6,
                             early_stopping=True), X, y),
        "wide_one_chunk": (C((1024,), batch_size=32, max_iter=1), X, y),
        "float32_adaptive": (C((48, 48), solver="sgd", learning_rate="adaptive",
                               batch_size=200, max_iter=3),
                             X.astype(np.float32), y),
        "sparse": (C((64,), batch_size=128, max_iter=3), Xs, ys),
        "lbfgs": (R((128,), solver="lbfgs", max_iter=15), X, Y2),
        "tanh_float32": (C((100, 40), activation="tanh", batch_size=64,
                           max_iter=2), X.astype(np.float32), y),
        "logistic_online": (C((20,), activation="logistic", solver="sgd",
                              batch_size=1, max_iter=1), X[:300], y[:300]),
        "identity_ragged": (R((70,), activation="identity", batch_size=100,
                              max_iter=2), X[:1234], Y2[:1234]),
    }
    out = {"threads": numba.get_num_threads()}
    for name, (est, XX, yy) in cases.items():
        est.set_params(random_state=0)
        if name == "adam_split":
            est.fit(XX, yy, sample_weight=w)
        else:
            est.fit(XX, yy)
        h = hashlib.sha1()
        for a in est.coefs_ + est.intercepts_:
            h.update(a.tobytes())
        h.update(np.asarray(getattr(est, "loss_curve_", [est.loss_])).tobytes())
        if name in ("adam_split", "lbfgs"):
            h.update(est.predict(Xp).tobytes())
        out[name] = h.hexdigest()
    est = C((64,), batch_size=128, random_state=0)
    for _ in range(3):
        est.partial_fit(X, y, classes=[0, 1, 2])
    out["partial_fit"] = hashlib.sha1(est.predict_proba(Xp).tobytes()).hexdigest()
    print(json.dumps(out))
    """
)


def run_fits(threads, layered=False):
    env = {"NUMBA_NUM_THREADS": str(threads), "LAYERED": str(int(layered))}
    done = run_script(FITS, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def one_thread():
    """The reference: one thread, no team, every batch as whole-chunk tasks."""
    reference = run_fits(1)
    assert reference.pop("threads") == 1
    return reference


def test_weights_bit_identical_for_1_2_16_and_64_threads(one_thread):
    for threads in (2, 16, 64):
        got = run_fits(threads)
        assert got.pop("threads") == threads
        differ = sorted(k for k in one_thread if got[k] != one_thread[k])
        assert not differ, f"{threads} threads: {differ} differ from one thread"


@pytest.mark.parametrize("threads", [1, 16])
def test_layer_phases_train_the_same_bits_as_whole_chunks(one_thread, threads):
    """Every batch as layer phases (each product cut into column tiles, the
    tiles shared by the team) gives the weights of whole-chunk tasks, byte for
    byte: with one thread (the same arithmetic, another schedule) and with 16
    (tiles of one chunk on different threads)."""
    got = run_fits(threads, layered=True)
    assert got.pop("threads") == threads
    differ = sorted(k for k in one_thread if got[k] != one_thread[k])
    assert not differ, f"layer phases, {threads} threads: {differ} differ"


# The tuner, driven from Python: tune_batch reads the time-stamp counter
# through the module's ``cycles``, replaced here by a clock that the test
# advances by the batch time of the cap in force.


def new_ctl():
    return np.zeros(tuner.T_END + 8, dtype=np.int64)


class Clock:
    def __init__(self):
        self.now = 1

    def __call__(self):
        return self.now


def drive(ctl, clock, cost, batches):
    """Run ``batches`` batches: each tune_batch call, then the batch's cycles
    ``cost(cap)`` on the clock. Returns the caps in force, batch by batch."""
    caps = []
    for _ in range(batches):
        tuner.tune_batch.py_func(ctl)
        caps.append(int(ctl[tuner.T_CAP]))
        clock.now += cost(int(ctl[tuner.T_CAP]))
    return caps


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(tuner, "cycles", c)
    return c


def test_tuner_settles_on_the_fastest_cap_and_tries_each_candidate(clock):
    ctl = new_ctl()
    tuner.start_tuning.py_func(ctl, 16)
    times = {1: 9_000_000, 2: 5_000_000, 4: 3_000_000, 8: 4_000_000, 16: 6_000_000}
    caps = drive(ctl, clock, times.get, 400)
    assert set(caps[:60]) == set(times)  # explored: every cap 1, 2, 4, 8, 16
    assert caps[-200:] == [4] * 200  # exploiting the cheapest
    assert ctl[tuner.T_CAND] == -1
    best = ctl[tuner.T_BEST : tuner.T_BEST + 5]
    assert list(best) == [times[c] for c in (1, 2, 4, 8, 16)]


def test_tuner_keeps_the_smaller_cap_unless_the_larger_is_clearly_faster(clock):
    ctl = new_ctl()
    tuner.start_tuning.py_func(ctl, 2)
    caps = drive(ctl, clock, {1: 100_000, 2: 99_000}.get, 300)  # 1% faster
    assert caps[-100:] == [1] * 100
    ctl = new_ctl()
    tuner.start_tuning.py_func(ctl, 2)
    caps = drive(ctl, clock, {1: 100_000, 2: 90_000}.get, 300)  # 10% faster
    assert caps[-100:] == [2] * 100


def test_tuner_explores_again_and_follows_a_core_turning_busy(clock):
    ctl = new_ctl()
    tuner.start_tuning.py_func(ctl, 2)
    quiet = {1: 2_000_000, 2: 1_200_000}
    busy = {1: 2_000_000, 2: 3_000_000}  # the second core taken by another process
    assert drive(ctl, clock, quiet.get, 100)[-20:] == [2] * 20
    chosen = []  # (batch, cap) at the end of each exploration
    for b in range(4000):
        explored = ctl[tuner.T_EXPLORED]
        drive(ctl, clock, busy.get, 1)
        if ctl[tuner.T_EXPLORED] > explored:
            chosen.append((b, int(ctl[tuner.T_CAP])))
    assert len(chosen) >= 3 and all(cap == 1 for _, cap in chosen)
    # exploring less and less often: the stretches between explorations double
    gaps = np.diff([b for b, _ in chosen])
    assert all(later > 1.8 * earlier for earlier, later in zip(gaps, gaps[1:]))


def test_tuner_off_below_two_members(clock):
    ctl = new_ctl()
    tuner.start_tuning.py_func(ctl, 1)
    assert drive(ctl, clock, lambda cap: 1000, 50) == [0] * 50  # 0: no cap


def _layer_state(cap, widest, tile_sets=64, team=16, parallel=1):
    ctl = np.zeros(loop.K_CLAIM + 8 * 64, dtype=np.int64)
    codes = np.zeros(loop.N_CODES, dtype=np.int64)
    codes[loop.C_TILE_COLS] = 32
    codes[loop.C_PARALLEL] = parallel
    codes[loop.C_TEAM] = team
    codes[loop.C_MODE] = loop.MODE_TRAIN
    codes[loop.C_SOLVER] = SOLVER_SGD
    ctl[tuner.T_CAP] = cap
    ctl[loop.L_WIDEST] = widest
    ctl[loop.L_TILE_SETS] = tile_sets
    return ctl, codes


@pytest.mark.parametrize(
    "cap, widest, n_parts, expected",
    [
        (4, 16, 1, True),  # more members may work than chunks, wide layers
        (4, 16, 4, False),  # as many chunks as members: whole chunks
        (0, 16, 1, False),  # the tuner found nothing to split (W4's batch 1)
        (4, 1, 1, False),  # one tile per layer: no more tasks than chunks
        (1, 16, 1, False),  # the tuner's cap is one member
    ],
)
def test_layer_phases_only_where_they_add_tasks_and_members(
    cap, widest, n_parts, expected
):
    """The schedule rule of loop._layered (the rule, not its speed: that is
    bench/compare.py's W4): layer phases need members to spare beyond the
    chunks, which a training call only has while the tuner runs, and layers
    wider than one tile."""
    ctl, codes = _layer_state(cap, widest)
    assert bool(loop._layered.py_func(ctl, codes, n_parts)) == expected
