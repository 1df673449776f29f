"""How many of the team take part in a training call's split phases: chosen
by timing the batches, while the call runs.

Whether splitting a batch among more threads pays depends on the machine as
much as on the net: each member reads the weights the step wrote and the
step reads the gradients every member wrote, and on the 2-core VM this
project runs on a cache line written by the other core costs ~5x one's own
(23 vs 4.4 cycles per line on a sequential read of 22 KB, measured for
issue 13). On W2's 32-row chunks (20-64-64-1) that traffic ate
the whole gain of a second thread in some runs and not in others; W3's
512-wide layers gain 1.6-1.9x. So instead of a rule, the lead measures:

    explore   for each candidate cap 1, 2, 4, ... (up to the team, or the
              most units a phase of this call can have), a window of batches
              (at least WINDOW_BATCHES and WINDOW_CYCLES, or WINDOW_MAX
              batches); ROUNDS rounds, keeping each cap's best window (the
              least disturbed one); the first batch after a change of cap is
              not counted (members may be waking from a nap)
    exploit   the fastest cap (a larger one only if it beats the smaller by
              MARGIN) for EXPLOIT_FACTOR times the batches explored, doubling
              after each exploration, then explore again (a core that turns
              busy mid-fit is noticed)

Which members run which tasks never changes a result (team.py), so neither
does this: it only moves time. Integer state only, in ctl from T_CAP on;
cycles are the time-stamp counter's (sync.cycles), the same clock on every
core. ``tune_batch`` runs in the lead at the start of each training batch.
"""

from .._jit import inline_kernel, strict_kernel
from .sync import cycles
from .team import K_CLAIM, K_STATE

# ctl words after loop.py's loop state
T_CAP = K_STATE + 16  # members that may take part (0: no cap, no tuning)
T_LIMIT = K_STATE + 17  # the largest cap worth trying
T_CAND = K_STATE + 18  # candidate measured now, or -1 while exploiting
T_ROUND = K_STATE + 19
T_COUNT = K_STATE + 20  # batches in the current window (-1: skip the next)
T_ACC = K_STATE + 21  # their cycles
T_LAST = K_STATE + 22  # cycles at the last training batch's start (0: none)
T_LEFT = K_STATE + 23  # batches left to exploit
T_EXPLORED = K_STATE + 24  # explorations completed
T_SPENT = K_STATE + 25  # batches of the current exploration
T_BEST = K_STATE + 26  # best cycles per batch of candidate k, k < MAX_CANDIDATES
MAX_CANDIDATES = 8  # caps 1, 2, 4, ..., 128
T_END = T_BEST + MAX_CANDIDATES
assert T_END <= K_CLAIM, "the tuner's words overlap the team's claim words"

WINDOW_BATCHES = 2
WINDOW_CYCLES = 1 << 20  # ~0.5 ms at 2 GHz
WINDOW_MAX = 64
ROUNDS = 2
MARGIN_PERCENT = 3
EXPLOIT_FACTOR = 16
MAX_DOUBLINGS = 8
_NEVER = 1 << 62


@inline_kernel
def candidate_cap(ctl, k):
    return min(1 << k, ctl[T_LIMIT])


@inline_kernel
def n_candidates(ctl):
    k = 1
    while (1 << (k - 1)) < ctl[T_LIMIT] and k < MAX_CANDIDATES:
        k += 1
    return k


@inline_kernel
def _explore(ctl):
    ctl[T_CAND] = 0
    ctl[T_ROUND] = 0
    ctl[T_SPENT] = 0
    ctl[T_COUNT] = -1
    ctl[T_ACC] = 0
    for k in range(MAX_CANDIDATES):
        ctl[T_BEST + k] = _NEVER
    ctl[T_CAP] = candidate_cap(ctl, 0)


@strict_kernel
def start_tuning(ctl, limit):
    """Tune caps up to ``limit`` (nothing to tune below 2)."""
    ctl[T_LAST] = 0
    ctl[T_EXPLORED] = 0
    if limit < 2:
        ctl[T_CAP] = 0
        return
    ctl[T_LIMIT] = limit
    _explore(ctl)


@inline_kernel
def _choose(ctl):
    n = n_candidates(ctl)
    best = 0
    for k in range(1, n):
        if ctl[T_BEST + k] * 100 < ctl[T_BEST + best] * (100 - MARGIN_PERCENT):
            best = k
    ctl[T_CAP] = candidate_cap(ctl, best)
    ctl[T_CAND] = -1
    doublings = min(ctl[T_EXPLORED], MAX_DOUBLINGS)
    ctl[T_LEFT] = ctl[T_SPENT] * EXPLOIT_FACTOR << doublings
    ctl[T_EXPLORED] += 1
    ctl[T_COUNT] = -1


@strict_kernel
def tune_batch(ctl):
    """At the start of a training batch: time the one before, and move on."""
    if ctl[T_CAP] == 0:
        return
    now = cycles()
    last = ctl[T_LAST]
    ctl[T_LAST] = now
    if last == 0:
        return
    if ctl[T_CAND] < 0:
        ctl[T_LEFT] -= 1
        if ctl[T_LEFT] <= 0:
            _explore(ctl)
        return
    ctl[T_SPENT] += 1
    if ctl[T_COUNT] < 0:  # the batch after a change of cap
        ctl[T_COUNT] = 0
        return
    ctl[T_COUNT] += 1
    ctl[T_ACC] += now - last
    count = ctl[T_COUNT]
    if count < WINDOW_MAX and (count < WINDOW_BATCHES or ctl[T_ACC] < WINDOW_CYCLES):
        return
    k = ctl[T_CAND]
    ctl[T_BEST + k] = min(ctl[T_BEST + k], ctl[T_ACC] // count)
    ctl[T_ACC] = 0
    k += 1
    if k == n_candidates(ctl):
        k = 0
        ctl[T_ROUND] += 1
        if ctl[T_ROUND] == ROUNDS:
            _choose(ctl)
            return
    ctl[T_CAND] = k
    cap = candidate_cap(ctl, k)
    ctl[T_COUNT] = -1 if cap != ctl[T_CAP] else 0
    ctl[T_CAP] = cap
