"""train_epochs allocates nothing per batch: every buffer comes from the Workspace.

Numba counts NRT allocations only when NUMBA_NRT_STATS=1 is set before it is
imported, so the measurement runs in a fresh interpreter."""

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import warnings
    import numpy as np
    from numba.core.runtime import rtsys
    import fastmlp, fastmlp._solver as solver

    counts = []
    kernel = solver.train_epochs

    def counted(*args):
        before = rtsys.get_allocation_stats().alloc
        out = kernel(*args)
        counts.append(rtsys.get_allocation_stats().alloc - before)
        flat = [x for a in args for x in (a if isinstance(a, tuple) else (a,))]
        n_arrays = sum(isinstance(a, np.ndarray) for a in flat)
        counts.append(n_arrays)
        return out

    solver.train_epochs = counted
    X = np.random.default_rng(0).standard_normal((600, 12)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    warnings.simplefilter("ignore")
    for solver_name in ("sgd", "adam"):
        for batch_size in (600, 50, 1):  # 1, 12 and 600 batches per epoch
            counts.clear()
            fastmlp.MLPClassifier((16, 8), solver=solver_name, batch_size=batch_size,
                                  max_iter=2, random_state=0).fit(X, y)
            print(solver_name, batch_size, *counts)
    """
)


@pytest.mark.skipif("NUMBA_DISABLE_JIT" in os.environ, reason="needs compiled code")
def test_epoch_allocations_do_not_depend_on_batch_count():
    env = dict(os.environ, NUMBA_NRT_STATS="1")
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    rows = [line.split() for line in out if line.strip()]
    assert len(rows) == 6
    for _, _, alloc1, n_arrays1, alloc2, n_arrays2 in rows:
        # The only NRT allocations are the MemInfos that wrap each array argument
        # on entry: none per batch, none per layer.
        assert alloc1 == n_arrays1 and alloc2 == n_arrays2
