"""Conversion between fitted fastmlp and scikit-learn MLPs.

The two share parameter names and fitted attributes, so conversion copies them.
fastmlp's additions have no place in scikit-learn's estimator: ``n_jobs`` is
dropped, and ``input_scaling``/``target_scaling`` are folded into the weights,
which is exact up to rounding for affine maps:

- inputs  x_s = (x - o) / s:   W0' = W0 / s[:, None],  b0' = b0 - (o / s) @ W0
- targets y = y_s * t + u (identity output only):
  W_last' = W_last * t,  b_last' = b_last * t + u

A Poisson regressor with ``target_scaling`` (exp output) predicts
exp(z) * t + u, which no single exp-output network represents when u != 0, so
converting it raises. Training-state attributes (``loss_``, ``loss_curve_``,
``best_loss_``) are copied as they are: in scaled units when ``target_scaling`` is
set. The optimizer's state (SGD velocities, Adam's moments and step count) is
converted too, so ``partial_fit`` continues on the other side exactly where it
stopped; not for a model with folded scaling, whose moments belong to the scaled
problem (its converted twin starts a fresh optimizer, as after ``fit``).
"""

import copy

import numpy as np
from sklearn.utils.validation import check_is_fitted

# Fitted attributes both estimators define (when present on the source).
_FITTED = (
    "n_iter_",
    "t_",
    "loss_",
    "loss_curve_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
    "n_layers_",
    "n_outputs_",
    "out_activation_",
    "n_features_in_",
    "feature_names_in_",
    "classes_",
    "_label_binarizer",
    "_no_improvement_count",
)
_FASTMLP_ONLY_PARAMS = (
    "n_jobs",
    "input_scaling",
    "target_scaling",
    "dropout",
    "class_weight",
    "huber_delta",
    "quantile",
    "weight_decay",
    "lr_schedule",
    "warmup",
    "max_grad_norm",
    "scoring",
)
# fastmlp's regression losses all have the identity output, as squared_error
_IDENTITY_OUTPUT_LOSSES = ("absolute_error", "huber", "quantile")


def _copy_fitted(source, target):
    for name in _FITTED:
        if hasattr(source, name):
            setattr(target, name, copy.deepcopy(getattr(source, name)))


def _layout(est):
    from ._params import ParamLayout

    return ParamLayout([c.shape[0] for c in est.coefs_] + [est.n_outputs_])


def _sklearn_activation(est):
    """The one scikit-learn activation name of est's hidden layers, or a
    ValueError saying why scikit-learn's MLP cannot compute this network."""
    from ._kernels.activations import SKLEARN_HIDDEN

    names = est._hidden_activations(len(est.coefs_) - 1)
    unknown = sorted({n for n in names if n not in SKLEARN_HIDDEN})
    if unknown:
        raise ValueError(
            f"to_sklearn cannot convert a network with the {unknown} activation: "
            f"scikit-learn's MLP has only {list(SKLEARN_HIDDEN)}."
        )
    if len(set(names)) > 1:
        raise ValueError(
            f"to_sklearn cannot convert per-layer activations {names}: "
            "scikit-learn's MLP uses one activation for every hidden layer."
        )
    return names[0] if names else "relu"


def _optimizer_to_sklearn(est, sk):
    """scikit-learn's optimizer object with the state of fastmlp's OptimizerState."""
    from sklearn.neural_network._stochastic_optimizers import (
        AdamOptimizer,
        SGDOptimizer,
    )

    opt = est._optimizer
    layout = _layout(est)

    def split(flat):
        coefs, intercepts = layout.unpack(flat)
        return [a.copy() for a in (*coefs, *intercepts)]

    params = sk.coefs_ + sk.intercepts_
    if opt.solver == "sgd":
        out = SGDOptimizer(
            params,
            opt.learning_rate_init,
            opt.lr_schedule,
            est.momentum,
            est.nesterovs_momentum,
            opt.power_t,
        )
        out.learning_rate = opt.learning_rate
        out.velocities = split(opt.moments[0])
    else:
        out = AdamOptimizer(
            params, opt.learning_rate_init, est.beta_1, est.beta_2, est.epsilon
        )
        out.t = opt.t
        out.ms, out.vs = split(opt.moments[0]), split(opt.moments[1])
    return out


def _optimizer_from_sklearn(sk, est):
    """fastmlp's OptimizerState with the state of scikit-learn's optimizer."""
    from ._solver import OptimizerState

    sk_opt = sk._optimizer
    layout = _layout(est)
    n_coef = len(sk.coefs_)
    dtype = sk.coefs_[0].dtype
    out = OptimizerState(est.solver, layout.n_params, dtype, est)

    def pack(arrays):
        return layout.pack(arrays[:n_coef], arrays[n_coef:], dtype)

    if est.solver == "sgd":
        out.learning_rate = float(sk_opt.learning_rate)
        out.moments[0] = pack(sk_opt.velocities)
    else:
        out.t = int(sk_opt.t)
        out.moments[0], out.moments[1] = pack(sk_opt.ms), pack(sk_opt.vs)
    return out


def to_sklearn(est):
    """A fitted ``sklearn.neural_network`` twin of the fitted fastmlp ``est``."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    from ._estimators import MLPClassifier as FastClassifier

    check_is_fitted(est)
    if not hasattr(est, "coefs_"):
        raise ValueError("to_sklearn needs a fitted estimator (no coefs_).")
    target_cls = MLPClassifier if isinstance(est, FastClassifier) else MLPRegressor
    params = {
        k: v for k, v in est.get_params().items() if k not in _FASTMLP_ONLY_PARAMS
    }
    params["activation"] = _sklearn_activation(est)
    if target_cls is MLPClassifier:
        params.pop("loss", None)  # fixed to log_loss by both classifiers
    elif params["loss"] in _IDENTITY_OUTPUT_LOSSES:
        # the same predictions (identity output); only training differed
        params["loss"] = "squared_error"
    out = target_cls(**params)
    coefs = [c.copy() for c in est.coefs_]
    intercepts = [b.copy() for b in est.intercepts_]
    if hasattr(est, "input_scale_"):
        scale = est.input_scale_.astype(np.float64)
        offset = est.input_offset_.astype(np.float64)
        W = coefs[0].astype(np.float64)
        intercepts[0] = (intercepts[0] - (offset / scale) @ W).astype(coefs[0].dtype)
        coefs[0] = (W / scale[:, None]).astype(coefs[0].dtype)
    if hasattr(est, "target_scale_"):
        if est.out_activation_ != "identity":
            raise ValueError(
                "to_sklearn cannot fold target_scaling into a network with the "
                f"{est.out_activation_!r} output activation (loss={est.loss!r}): "
                "exp(z) * scale + offset is not an exp-output network. Convert a "
                "model trained without target_scaling."
            )
        t = est.target_scale_.astype(np.float64)
        u = est.target_offset_.astype(np.float64)
        dtype = coefs[-1].dtype
        coefs[-1] = (coefs[-1].astype(np.float64) * t).astype(dtype)
        intercepts[-1] = (intercepts[-1].astype(np.float64) * t + u).astype(dtype)
    out.coefs_, out.intercepts_ = coefs, intercepts
    _copy_fitted(est, out)
    folded = hasattr(est, "input_scale_") or hasattr(est, "target_scale_")
    if hasattr(est, "_optimizer") and not folded:
        out._optimizer = _optimizer_to_sklearn(est, out)
    return out


def from_sklearn(sk_est, cls=None):
    """A fitted fastmlp estimator with the weights and state of the fitted
    scikit-learn MLP ``sk_est`` (``cls``: the fastmlp class, else inferred)."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    from ._estimators import MLPClassifier as FastClassifier
    from ._estimators import MLPRegressor as FastRegressor

    if not isinstance(sk_est, MLPClassifier | MLPRegressor):
        raise TypeError(
            "from_sklearn expects a sklearn.neural_network.MLPClassifier or "
            f"MLPRegressor, got {type(sk_est).__name__}."
        )
    check_is_fitted(sk_est)
    inferred = FastClassifier if isinstance(sk_est, MLPClassifier) else FastRegressor
    if cls is None:
        cls = inferred
    elif not issubclass(cls, inferred):
        raise TypeError(
            f"Cannot convert a {type(sk_est).__name__} into {cls.__name__}; use "
            f"{inferred.__name__}."
        )
    params = sk_est.get_params()
    if inferred is FastClassifier:
        params.pop("loss", None)
    out = cls(**params)
    out.coefs_ = [c.copy() for c in sk_est.coefs_]
    out.intercepts_ = [b.copy() for b in sk_est.intercepts_]
    _copy_fitted(sk_est, out)
    if hasattr(sk_est, "_optimizer"):
        out._optimizer = _optimizer_from_sklearn(sk_est, out)
    return out
