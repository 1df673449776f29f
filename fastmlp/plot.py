"""Plots of a fitted model's training history (matplotlib, optional:
``pip install 'fastmlp[plot]'``)."""

from sklearn.utils.validation import check_is_fitted

MATPLOTLIB_MISSING = (
    "fastmlp.plot needs matplotlib: pip install matplotlib "
    "(or pip install 'fastmlp[plot]')."
)


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(MATPLOTLIB_MISSING) from exc
    return plt


def loss_curve(est, ax=None):
    """Training loss per epoch, and the validation score per epoch when the model
    was fitted with ``early_stopping`` (on a second y axis, right).

    Works for fastmlp's and scikit-learn's MLPs alike (it reads ``loss_curve_``
    and ``validation_scores_``).

    Parameters
    ----------
    est : fitted MLPClassifier or MLPRegressor, solver 'sgd' or 'adam'
    ax : matplotlib Axes, default=None
        Where to draw; a new figure's Axes when None.

    Returns
    -------
    ax : matplotlib Axes
        The Axes with the loss curve. With validation scores, their twin Axes
        is ``ax.right_ax``.
    """
    check_is_fitted(est)
    curve = getattr(est, "loss_curve_", None)
    if curve is None:
        raise ValueError(
            f"{type(est).__name__} has no loss_curve_: only the 'sgd' and 'adam' "
            f"solvers record one per epoch (solver={est.solver!r})."
        )
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots()
    epochs = range(1, len(curve) + 1)
    (loss_line,) = ax.plot(epochs, curve, color="C0", label="training loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    lines = [loss_line]
    scores = getattr(est, "validation_scores_", None)
    if scores:
        right = ax.twinx()
        (score_line,) = right.plot(
            range(1, len(scores) + 1), scores, color="C1", label="validation score"
        )
        right.set_ylabel("validation score")
        ax.right_ax = right
        lines.append(score_line)
    ax.legend(lines, [line.get_label() for line in lines], loc="best")
    ax.set_title(f"{type(est).__name__}: {len(curve)} epochs")
    return ax
