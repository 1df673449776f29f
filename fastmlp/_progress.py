"""What a stochastic fit reports as it trains, by ``verbose``.

- 0/False: nothing.
- 1/True: scikit-learn's lines, word for word ("Iteration 3, loss = 0.12345678",
  "Validation score: ...", the stopping messages).
- 2 or more: a tqdm progress bar over the epochs, the current loss (and validation
  score) as its postfix, the stopping messages written above it. tqdm is optional;
  without it fastmlp warns once per fit and prints scikit-learn's lines instead.
"""

import warnings

TQDM_MISSING = (
    "verbose={verbose} shows a progress bar, which needs tqdm (pip install tqdm, "
    "or pip install 'fastmlp[progress]'); printing scikit-learn's per-iteration "
    "lines instead."
)


def _tqdm():
    """tqdm's class, notebook-aware where possible; None when not installed."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


class Progress:
    """Reporter for one fit: ``epoch`` after each epoch, ``say`` for messages,
    ``close`` at the end (also when training stops early or raises)."""

    def __init__(self, verbose, total, initial=0):
        self.verbose = int(verbose)
        self.bar = None
        self.postfix = {}
        if self.verbose >= 2:
            tqdm = _tqdm()
            if tqdm is None:
                warnings.warn(TQDM_MISSING.format(verbose=self.verbose), stacklevel=4)
            else:
                self.bar = tqdm(total=total, initial=initial, unit="epoch", desc="fit")

    def epoch(self, n_iter, loss):
        if self.bar is not None:
            self.postfix = {"loss": "%.6g" % loss}
            self.bar.set_postfix(self.postfix, refresh=False)
            self.bar.update(1)
        elif self.verbose:
            print("Iteration %d, loss = %.8f" % (n_iter, loss))

    def validation(self, score):
        if self.bar is not None:
            self.postfix["validation score"] = "%.6g" % score
            self.bar.set_postfix(self.postfix)
        elif self.verbose:
            print("Validation score: %f" % score)

    def say(self, msg):
        if self.bar is not None:
            self.bar.write(msg)
        elif self.verbose:
            print(msg)

    def close(self):
        if self.bar is not None:
            self.bar.close()
