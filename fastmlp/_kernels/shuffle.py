"""Each epoch's shuffle in compiled code, from the estimator's RandomState stream.

scikit-learn's epoch loop calls ``sklearn.utils.shuffle(sample_idx,
random_state=rs)``: ``rs.shuffle(np.arange(n))``, then ``sample_idx[perm]``
(the order is cumulative over epochs). NumPy's legacy ``RandomState.shuffle`` is
Fisher-Yates over i = n-1, ..., 1, each swap partner drawn by
``random_interval(i)``: 32-bit MT19937 words masked to the smallest 2^k - 1 >=
i, rejected while > i. Applying the same swaps to ``sample_idx`` in place gives
``sample_idx[perm]``.

The 32-bit words are generated here, by MT19937 from the RandomState's own
state (``get_state()``'s key and position; the solver writes the advanced state
back with ``set_state``), so the stream continues where scikit-learn's would:
NumPy's legacy RandomState draws them with the same twist and tempering. No
words are drawn in Python and nothing is rewound; each epoch costs ~1.4 words a
row, against ~100 us of Python per ``sklearn.utils.shuffle`` call (input
validation and dataframe checks), which was most of a small fit's time.
"""

import numpy as np

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


MT_N, MT_M = 624, 397  # MT19937's state length and shift


@inline_kernel
def _mt_twist(key):
    """Regenerate the 624-word state in place (NumPy's mt19937_gen)."""
    for i in range(MT_N):
        y = (np.int64(key[i]) & 0x80000000) | (
            np.int64(key[(i + 1) % MT_N]) & 0x7FFFFFFF
        )
        mag = 0x9908B0DF if y & 1 else 0
        key[i] = np.uint32(np.int64(key[(i + MT_M) % MT_N]) ^ (y >> 1) ^ mag)


@inline_kernel
def mt_next32(key, pos):
    """(next 32-bit output, new position) of the MT19937 state ``key`` (uint32,
    624) at position ``pos`` (0-624, as RandomState.get_state reports it)."""
    if pos >= MT_N:
        _mt_twist(key)
        pos = 0
    y = np.int64(key[pos])
    y ^= y >> 11
    y ^= (y << 7) & 0x9D2C5680
    y ^= (y << 15) & 0xEFC60000
    y ^= y >> 18
    return y, pos + 1


@inline_kernel
def legacy_shuffle(order, key, pos):
    """Shuffle ``order`` in place as ``RandomState.shuffle`` would, drawing from
    the MT19937 state ``key`` at position ``pos``; returns the new position."""
    p = pos
    for i in range(order.shape[0] - 1, 0, -1):
        mask = _interval_mask(i)
        while True:
            word, p = mt_next32(key, p)
            v = word & mask
            if v <= i:
                break
        j = v
        tmp = order[i]
        order[i] = order[j]
        order[j] = tmp
    return p
