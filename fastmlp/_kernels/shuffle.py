"""Each epoch's shuffle in compiled code, from the estimator's RandomState stream.

scikit-learn's epoch loop calls ``sklearn.utils.shuffle(sample_idx,
random_state=rs)``: ``rs.shuffle(np.arange(n))``, then ``sample_idx[perm]``
(the order is cumulative over epochs). NumPy's legacy ``RandomState.shuffle`` is
Fisher-Yates over i = n-1, ..., 1, each swap partner drawn by
``random_interval(i)``: 32-bit MT19937 words masked to the smallest 2^k - 1 >=
i, rejected while > i. Applying the same swaps to ``sample_idx`` in place gives
``sample_idx[perm]``.

The words themselves come from the same RandomState, drawn in Python in bulk by
``rs.randint(0, 2**32, size=k, dtype=np.uint32)`` (for that full range NumPy
returns the generator's next 32-bit outputs unchanged, in order); the solver then
rewinds the RandomState to just after the words actually used
(_solver.ShuffleWords), so the stream is where scikit-learn's would be. That costs
about 1.4 words per row per epoch, against ~100 us of Python per
``sklearn.utils.shuffle`` call (input validation and dataframe checks), which
was most of a small fit's time.
"""

from .._jit import inline_kernel


@inline_kernel
def _interval_mask(i):
    """The smallest 2^k - 1 >= i (numpy's random_interval mask)."""
    mask = i
    mask |= mask >> 1
    mask |= mask >> 2
    mask |= mask >> 4
    mask |= mask >> 8
    mask |= mask >> 16
    mask |= mask >> 32
    return mask


@inline_kernel
def words_needed(n, raw, pos):
    """How many words from raw[pos:] shuffling n items takes, or -1 if raw runs
    out first (the draws are rejection sampled, so only a dry run tells)."""
    p = pos
    for i in range(n - 1, 0, -1):
        mask = _interval_mask(i)
        while True:
            if p >= raw.shape[0]:
                return -1
            v = raw[p] & mask
            p += 1
            if v <= i:
                break
    return p - pos


@inline_kernel
def legacy_shuffle(order, raw, pos):
    """Shuffle ``order`` in place as ``RandomState.shuffle`` would, with the
    generator's words raw[pos:] (uint32); returns the position after the last
    word used. raw must hold enough words (``words_needed``)."""
    p = pos
    for i in range(order.shape[0] - 1, 0, -1):
        mask = _interval_mask(i)
        while True:
            v = raw[p] & mask
            p += 1
            if v <= i:
                break
        j = v
        tmp = order[i]
        order[i] = order[j]
        order[j] = tmp
    return p
