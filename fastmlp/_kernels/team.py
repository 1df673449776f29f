"""The training team: one parallel region per compiled call; the tasks of each
phase claimed by its members, their own first, then anyone's.

A call of ``network.train_epochs`` runs a sequence of *phases* (a batch's row
chunks, the step, a validation block, ...; loop.py decides the sequence), each
a set of independent tasks. Phases that do not pay for threads run whole on
one thread, inside ``network.run_task``; a phase worth splitting is
*published* to the team as ``n_units`` units of ``unit`` consecutive tasks:

    member loop:  wait until a new phase is published (spin, then yield, then nap)
                  claim units, each by a compare-and-swap on its own word: first
                  the member's own block of them (the same block every time, so
                  its scratch buffers and gradient slots stay in its cache), then
                  any unit still unclaimed, from the other blocks' ends
                  run each claimed unit (network.run_task, by address) and count
                  it done; whoever completes the last unit is the phase's *lead*:
                  it runs the bookkeeping that follows (and any one-thread phases
                  after it) and publishes the next phase

No member waits for a given other one: a thread that the OS deschedules holds
up only the unit it has claimed, and the rest of its block is taken by the
others; one that starts late finds the work done. Every task's arithmetic is
the same whichever member runs it, so the weights are bit-identical for any
team size (1 included, where everything runs in ``run_task``), and nothing
here touches a float.

``ctl`` (int64) holds the team's words: K_GEN, the generation published last,
and K_DONE, units completed in it, each on its own cache line; the published
phase's descriptor in one of two slots (K_DESC, by the parity of the
generation; a member re-reads K_GEN after reading one, so it never acts on a
half-written one); from K_STATE on the loop's own state (loop.py), which only
a lead writes; from K_CLAIM on one word per unit, a cache line apart, holding
the generation that last claimed it (generations only grow, so a unit whose
word is below the current generation is unclaimed in it).
"""

import numpy as np

from .._jit import kernel
from .indirect import call_kernel
from .sync import (
    atomic_add,
    atomic_cas,
    atomic_load,
    atomic_store,
    cpu_relax,
    cycles,
    nap,
    yield_cpu,
)

K_GEN, K_DONE, K_DESC = 0, 8, 16
D_PHASE, D_UNITS, D_UNIT, D_TASKS, D_MEMBERS = range(5)
DESC_SIZE = 8
K_STATE = 32
# The loop state's first entries: the phase to run next, its task count, and
# how it is split (units, tasks per unit, members that take part), as loop.py
# leaves them for publish; loop.py adds the rest.
L_PHASE, L_TASKS, L_UNITS, L_UNIT, L_MEMBERS = range(K_STATE, K_STATE + 5)
K_CLAIM = 72  # after the loop state (loop.py, tuner.py)
CLAIM_STRIDE = 8  # int64 words: a 64-byte cache line per claim word
# A split phase has at most this many units per member taking part.
UNITS_PER_MEMBER = 4

# Waiting for a phase: spin on the word (a new phase every few microseconds on
# small nets), then give the core to another runnable thread, then sleep in
# naps, so an idle member costs little on a busy machine.
SPIN_CYCLES = 60_000  # ~20-30 us
YIELD_CYCLES = 600_000  # ~0.2-0.3 ms
NAP_US = 50


def ctl_size(max_units):
    """Length of a ctl array for phases of up to ``max_units`` units."""
    return K_CLAIM + CLAIM_STRIDE * max(1, max_units)


@kernel
def publish(ctl, gen):
    """Make the phase in the loop state (L_PHASE ...) generation ``gen``: its
    descriptor, a zero done count, then the generation itself."""
    slot = K_DESC + DESC_SIZE * (gen & 1)
    atomic_store(ctl, slot + D_PHASE, ctl[L_PHASE])
    atomic_store(ctl, slot + D_UNITS, ctl[L_UNITS])
    atomic_store(ctl, slot + D_UNIT, ctl[L_UNIT])
    atomic_store(ctl, slot + D_TASKS, ctl[L_TASKS])
    atomic_store(ctl, slot + D_MEMBERS, ctl[L_MEMBERS])
    atomic_store(ctl, K_DONE, 0)
    atomic_store(ctl, K_GEN, gen)


@kernel
def wait_for_phase(ctl, gen):
    """The first generation after ``gen`` (spin, then yield, then nap)."""
    start = cycles()
    while True:
        published = atomic_load(ctl, K_GEN)
        if published != gen:
            return published
        waited = cycles() - start
        if waited < SPIN_CYCLES:
            cpu_relax()
        elif waited < YIELD_CYCLES:
            yield_cpu()
        else:
            nap(NAP_US)


@kernel
def claim(ctl, gen, unit):
    """Claim ``unit`` for generation ``gen``; False if someone has."""
    word = K_CLAIM + CLAIM_STRIDE * unit
    seen = atomic_load(ctl, word)
    return seen < gen and atomic_cas(ctl, word, seen, gen) == seen


@kernel
def team_member(member, ctl, done_phase, task_addr, task_key, args):
    """One member's loop until a phase ``done_phase`` is published; ``args`` are
    run_task's arguments after (member, first task, end task, lead)."""
    gen = 0
    while True:
        gen = wait_for_phase(ctl, gen)
        slot = K_DESC + DESC_SIZE * (gen & 1)
        phase = atomic_load(ctl, slot + D_PHASE)
        n_units = atomic_load(ctl, slot + D_UNITS)
        unit_tasks = atomic_load(ctl, slot + D_UNIT)
        n_tasks = atomic_load(ctl, slot + D_TASKS)
        n_members = atomic_load(ctl, slot + D_MEMBERS)
        if atomic_load(ctl, K_GEN) != gen:
            gen -= 1  # a later phase is out already: read it
            continue
        if phase == done_phase:
            return
        if member >= n_members:
            continue
        own = member * n_units // n_members
        own_end = (member + 1) * n_units // n_members
        for i in range(n_units):
            # own block in order, then the others backwards from its start
            unit = own + i if i < own_end - own else own - 1 - (i - (own_end - own))
            if unit < 0:
                unit += n_units
            if not claim(ctl, gen, unit):
                continue
            first = unit * unit_tasks
            end = min(first + unit_tasks, n_tasks)
            lead = 0
            # one call site (each costs ~1 s of compile time per dtype): the
            # unit, then, by whoever completes the last unit, the loop's lead
            # up to the next split phase
            while True:
                call_kernel(
                    task_addr, task_key,
                    (np.intp(member), np.intp(first), np.intp(end), np.intp(lead)),
                    args,
                )  # fmt: skip
                if lead == 1 or atomic_add(ctl, K_DONE, 1) + 1 != n_units:
                    break
                lead = 1
                first = 0
                end = 0
            if lead == 1:
                publish(ctl, gen + 1)
                break
