"""fastmlp's additions to scikit-learn's model against a PyTorch autograd loop.

scikit-learn has no leaky_relu/elu/gelu/silu/softplus, no absolute/Huber/
quantile loss and no dropout, so it cannot be the reference for them. Here
torch's own definitions of each (``torch.nn.functional``, ``HuberLoss``) and
autograd compute the gradients, and a hand-written loop applies scikit-learn's
update formulas (SGD with Nesterov momentum, Adam with scikit-learn's bias
correction and epsilon placement, the L2 term alpha / 2 ||W||^2 over the
batch's weight sum) to batches taken in order (``shuffle=False``), from the
initial weights scikit-learn's initialisation draws for the same
``random_state`` (written out below in NumPy). After a few epochs fastmlp's
float64 weights must equal torch's to rtol 1e-6.
"""

import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from fastmlp import MLPClassifier, MLPRegressor
from tests import reference

torch = pytest.importorskip(
    "torch", reason="torch (CPU build) is the reference for fastmlp's additions"
)
F = torch.nn.functional

ACTIVATIONS = {
    "relu": F.relu,
    "tanh": torch.tanh,
    "logistic": torch.sigmoid,
    "identity": lambda u: u,
    "leaky_relu": lambda u: F.leaky_relu(u, 0.01),
    "elu": lambda u: F.elu(u, 1.0),
    "gelu": lambda u: F.gelu(u),  # exact (erf) form, torch's default
    "silu": F.silu,
    "softplus": lambda u: F.softplus(u, beta=1.0),
}
EPOCHS = 3
RTOL = 1e-6


def sklearn_initial_weights(random_state, units, activations):
    """scikit-learn's Glorot-uniform draws (``_init_coef``): per layer the
    coefficients, then the intercepts, bound sqrt(factor / (fan_in + fan_out)),
    factor 2 for a logistic layer, else 6 (the output layer: the last hidden's)."""
    rs = np.random.RandomState(random_state)
    names = list(activations) + [activations[-1]]
    coefs, intercepts = [], []
    for layer, (fi, fo) in enumerate(zip(units[:-1], units[1:])):
        bound = np.sqrt((2.0 if names[layer] == "logistic" else 6.0) / (fi + fo))
        coefs.append(rs.uniform(-bound, bound, (fi, fo)))
        intercepts.append(rs.uniform(-bound, bound, fo))
    return coefs, intercepts


def row_losses(P, Y, loss, param):
    """Per-row loss (mean over outputs), torch's definitions; for
    squared_error the half squared error *summed* over outputs, whose gradient
    is the P - Y scikit-learn's sgd/adam step uses (scikit-learn #8349)."""
    if loss == "squared_error":
        return 0.5 * ((P - Y) ** 2).sum(dim=1)
    if loss == "absolute_error":
        return (P - Y).abs().mean(dim=1)
    if loss == "huber":
        huber = torch.nn.HuberLoss(reduction="none", delta=param)
        return huber(P, Y).mean(dim=1)
    if loss == "quantile":
        E = Y - P
        return torch.maximum(param * E, (param - 1) * E).mean(dim=1)
    if loss == "log_loss":  # softmax output
        return -(Y * torch.log_softmax(P, dim=1)).sum(dim=1)
    raise ValueError(loss)


def schedule_factor(t, T, warmup, shape):
    """s(t) of issue 15's learning-rate schedule, written from its spec: step t
    (0-based) of T, W = round(warmup * T) warmup steps (Python's round), then
    the cosine or linear decay to 0 over the remaining T - W steps (the
    fraction clamped to 1 past T); with no shape s = 1 after the warmup."""
    W = round((warmup or 0.0) * T)
    if t < W:
        return (t + 1) / W
    if shape is None or T == W:
        return 1.0
    frac = min((t - W) / (T - W), 1.0)
    if shape == "cosine":
        return (1 + math.cos(math.pi * frac)) / 2
    if shape == "linear":
        return 1 - frac
    raise ValueError(shape)


def torch_train(coefs, intercepts, X, Y, sw, activations, loss, param, solver,
                batch_size, alpha=1e-4, lr=1e-3, masks=None, weight_decay=0.0,
                schedule=None, warmup=None, total_steps=None, max_grad_norm=None,
                grad_norms=None, epochs=EPOCHS):  # fmt: skip
    """``epochs`` epochs of scikit-learn's mini-batch loop in torch (float64).

    ``masks(epoch, layer, rows)``: dropout multipliers for hidden layer
    ``layer`` on the batch's rows, or None. With log_loss the output is
    softmax (P is its pre-activation in row_losses). ``weight_decay``:
    before each step W <- W - lr_t * weight_decay * W on the coefficients (not
    the intercepts), the gradient (with the L2 term) taken before it.

    Step t (0-based, counted over this whole run) uses lr_t = lr *
    schedule_factor(t, T, warmup, schedule), T = ``total_steps``: an int, a
    function of t (partial_fit: the steps of the call t belongs to, times
    max_iter) or None for epochs * ceil(n / batch_size); with no schedule and
    no warmup lr_t is lr. Adam's bias-corrected step uses lr_t in place of lr.
    ``max_grad_norm``: the batch gradient (L2 term included) is clipped by
    ``torch.nn.utils.clip_grad_norm_`` before the decay and the step; each
    step's norm before clipping is appended to the list ``grad_norms``."""
    params = [torch.tensor(a, requires_grad=True) for a in (*coefs, *intercepts)]
    n_layers = len(coefs)
    Ws, bs = params[:n_layers], params[n_layers:]
    state = [torch.zeros_like(p) for p in params]
    state2 = [torch.zeros_like(p) for p in params]
    t = 0
    X, Y, sw = (torch.tensor(a) for a in (X, Y, sw))
    n = X.shape[0]
    if total_steps is None:
        total_steps = epochs * -(-n // batch_size)
    for epoch in range(epochs):
        for start in range(0, n, batch_size):
            T = total_steps(t) if callable(total_steps) else total_steps
            lr_t = lr * schedule_factor(t, T, warmup, schedule)
            rows = np.arange(start, min(start + batch_size, n))
            H = X[rows]
            for layer in range(n_layers):
                U = H @ Ws[layer] + bs[layer]
                if layer < n_layers - 1:
                    H = ACTIVATIONS[activations[layer]](U)
                    if masks is not None:
                        m = masks(epoch, layer, rows)
                        if m is not None:
                            H = H * torch.tensor(m)
                else:
                    H = U
            w = sw[rows]
            data = (w * row_losses(H, Y[rows], loss, param)).sum() / w.sum()
            l2 = 0.5 * alpha * sum((W * W).sum() for W in Ws) / w.sum()
            for p in params:
                p.grad = None
            (data + l2).backward()
            if max_grad_norm is not None:
                norm = torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
                if grad_norms is not None:
                    grad_norms.append(float(norm))
            with torch.no_grad():
                t += 1
                for i, (p, m, v) in enumerate(zip(params, state, state2)):
                    g = p.grad
                    if i < n_layers:
                        p.mul_(1 - lr_t * weight_decay)
                    if solver == "sgd":  # momentum 0.9, Nesterov
                        m.mul_(0.9).sub_(lr_t * g)
                        p.add_(0.9 * m - lr_t * g)
                    else:  # scikit-learn's Adam
                        m.mul_(0.9).add_(0.1 * g)
                        v.mul_(0.999).add_(0.001 * g * g)
                        step = lr_t * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
                        p.sub_(step * m / (v.sqrt() + 1e-8))
    return [p.detach().numpy() for p in params]


def fastmlp_weights(est):
    return [*est.coefs_, *est.intercepts_]


def problem(rng, n=64, n_features=5, n_outputs=2):
    X = rng.standard_normal((n, n_features))
    Y = np.stack(
        [np.sin(X[:, 0]) + 0.3 * X[:, 1] ** 2 + 0.1 * rng.standard_normal(n)]
        * n_outputs,
        axis=1,
    ) + rng.standard_normal((n, n_outputs))
    return X, Y


def fit_regressor(X, Y, sw=None, **params):
    params = {"max_iter": EPOCHS, **params}
    est = MLPRegressor(
        shuffle=False, random_state=0, tol=0.0, n_iter_no_change=1000,
        momentum=0.9, **params,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, Y, sample_weight=sw)


def assert_same_weights(ours, theirs):
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-12)
    return max(
        float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))
        for a, b in zip(ours, theirs)
    )


NEW_ACTIVATIONS = ["leaky_relu", "elu", "gelu", "silu", "softplus"]


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("activation", NEW_ACTIVATIONS)
def test_new_activations_train_as_torch(rng, activation, solver):
    X, Y = problem(rng)
    hidden = (16, 8)
    est = fit_regressor(X, Y, hidden_layer_sizes=hidden, activation=activation,
                        solver=solver, batch_size=10, learning_rate_init=0.01)  # fmt: skip
    units = [X.shape[1], *hidden, Y.shape[1]]
    coefs, intercepts = sklearn_initial_weights(0, units, [activation] * 2)
    ref = torch_train(coefs, intercepts, X, Y, np.ones(len(X)), [activation] * 2,
                      "squared_error", 0.0, solver, 10, lr=0.01)  # fmt: skip
    assert_same_weights(fastmlp_weights(est), ref)


def test_per_layer_activations_train_as_torch(rng):
    X, Y = problem(rng)
    acts = ("gelu", "tanh", "logistic")
    hidden = (12, 9, 7)
    est = fit_regressor(X, Y, hidden_layer_sizes=hidden, activation=acts,
                        solver="adam", batch_size=16, learning_rate_init=0.01)  # fmt: skip
    units = [X.shape[1], *hidden, Y.shape[1]]
    coefs, intercepts = sklearn_initial_weights(0, units, acts)
    ref = torch_train(coefs, intercepts, X, Y, np.ones(len(X)), acts,
                      "squared_error", 0.0, "adam", 16, lr=0.01)  # fmt: skip
    assert_same_weights(fastmlp_weights(est), ref)


LOSSES = {"absolute_error": {}, "huber": {"huber_delta": 0.5},
          "quantile": {"quantile": 0.2}}  # fmt: skip


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("loss", list(LOSSES))
def test_new_losses_train_as_torch(rng, loss, solver, weighted):
    X, Y = problem(rng)
    sw = rng.uniform(0.2, 3.0, len(X)) if weighted else None
    hidden = (16,)
    est = fit_regressor(X, Y, sw, hidden_layer_sizes=hidden, activation="tanh",
                        solver=solver, batch_size=12, learning_rate_init=0.02,
                        loss=loss, **LOSSES[loss])  # fmt: skip
    param = est._loss_param()
    assert param == {"absolute_error": 0.0, "huber": 0.5, "quantile": 0.2}[loss]
    units = [X.shape[1], *hidden, Y.shape[1]]
    coefs, intercepts = sklearn_initial_weights(0, units, ["tanh"])
    ref = torch_train(coefs, intercepts, X, Y, np.ones(len(X)) if sw is None else sw,
                      ["tanh"], loss, param, solver, 12, lr=0.02)  # fmt: skip
    assert_same_weights(fastmlp_weights(est), ref)
    # loss_: the (weighted) mean over samples and outputs plus the L2 term;
    # one full-batch epoch reports it at the initial weights
    one = fit_regressor(X, Y, sw, hidden_layer_sizes=hidden, activation="tanh",
                        solver=solver, batch_size=len(X), max_iter=1, loss=loss,
                        **LOSSES[loss])  # fmt: skip
    H = torch.tanh(
        torch.tensor(X) @ torch.tensor(coefs[0]) + torch.tensor(intercepts[0])
    )
    P = H @ torch.tensor(coefs[1]) + torch.tensor(intercepts[1])
    w = torch.ones(len(X), dtype=torch.float64) if sw is None else torch.tensor(sw)
    data = (w * row_losses(P, torch.tensor(Y), loss, param)).sum() / w.sum()
    l2 = 0.5e-4 * sum(float((c**2).sum()) for c in coefs) / float(w.sum())
    np.testing.assert_allclose(one.loss_, float(data) + l2, rtol=1e-12)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("dropout", [0.3, (0.5, 0.2)])
def test_dropout_trains_as_torch_with_the_same_masks(rng, dropout, solver):
    """The masks are the NumPy twin's (reference.dropout_multipliers: the
    counter-based generator of _kernels/dropout.py, keyed on the model's
    seed, the samples seen before the epoch, the layer, row and unit)."""
    X, Y = problem(rng)
    hidden = (16, 12)
    rates = [dropout] * 2 if np.ndim(dropout) == 0 else list(dropout)
    est = fit_regressor(X, Y, hidden_layer_sizes=hidden, activation="relu",
                        solver=solver, batch_size=10, learning_rate_init=0.01,
                        dropout=dropout)  # fmt: skip
    n = len(X)

    def masks(epoch, layer, rows):
        return reference.dropout_multipliers(
            est._dropout_seed, epoch * n, layer, rows, hidden[layer], rates[layer]
        )

    units = [X.shape[1], *hidden, Y.shape[1]]
    coefs, intercepts = sklearn_initial_weights(0, units, ["relu"] * 2)
    ref = torch_train(coefs, intercepts, X, Y, np.ones(n), ["relu"] * 2,
                      "squared_error", 0.0, solver, 10, lr=0.01, masks=masks)  # fmt: skip
    assert_same_weights(fastmlp_weights(est), ref)
    # and the masks did drop units: without them the weights differ
    plain = torch_train(coefs, intercepts, X, Y, np.ones(n), ["relu"] * 2,
                        "squared_error", 0.0, solver, 10, lr=0.01)  # fmt: skip
    assert not np.allclose(fastmlp_weights(est)[0], plain[0], rtol=1e-3)


@pytest.mark.parametrize("activation", ["gelu", "silu"])
def test_classifier_with_new_activation_trains_as_torch(rng, activation):
    X = rng.standard_normal((60, 4))
    y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int) + (X[:, 2] > 1)
    est = MLPClassifier(hidden_layer_sizes=(10,), activation=activation,
                        shuffle=False, random_state=0, max_iter=EPOCHS, tol=0.0,
                        n_iter_no_change=1000, batch_size=15,
                        learning_rate_init=0.01)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    Y = np.eye(3)[y]
    coefs, intercepts = sklearn_initial_weights(0, [4, 10, 3], [activation])
    ref = torch_train(coefs, intercepts, X, Y, np.ones(60), [activation],
                      "log_loss", 0.0, "adam", 15, lr=0.01)  # fmt: skip
    assert_same_weights(fastmlp_weights(est), ref)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("alpha", [0.0, 1e-2])
def test_weight_decay_trains_as_torch(rng, solver, alpha):
    """weight_decay (issue 15): AdamW / SGD with decoupled decay, beside the L2
    penalty alpha, as torch_train writes it out."""
    X, Y = problem(rng)
    hidden = (16,)
    est = fit_regressor(X, Y, hidden_layer_sizes=hidden, activation="tanh",
                        solver=solver, batch_size=10, learning_rate_init=0.01,
                        alpha=alpha, weight_decay=0.05)  # fmt: skip
    units = [X.shape[1], *hidden, Y.shape[1]]
    coefs, intercepts = sklearn_initial_weights(0, units, ["tanh"])
    common = (coefs, intercepts, X, Y, np.ones(len(X)), ["tanh"], "squared_error", 0.0,
              solver, 10)  # fmt: skip
    ref = torch_train(*common, alpha=alpha, lr=0.01, weight_decay=0.05)
    assert_same_weights(fastmlp_weights(est), ref)
    plain = torch_train(*common, alpha=alpha, lr=0.01)
    assert not np.allclose(ref[0], plain[0], rtol=1e-4)  # the decay did act


# Learning-rate schedules, warmup and gradient clipping (issue 15). 64 rows in
# batches of 10: 7 steps an epoch (the last of 4 rows), T = 21 over EPOCHS = 3.
REFERENCE_ARGS = {"learning_rate_init": "lr", "alpha": "alpha",
                  "weight_decay": "weight_decay", "lr_schedule": "schedule",
                  "warmup": "warmup", "max_grad_norm": "max_grad_norm"}  # fmt: skip


def schedule_reference(X, Y, solver, sw=None, grad_norms=None, **params):
    """torch_train with the estimator parameters ``params`` (hidden (16,),
    tanh, batches of 10, learning_rate_init 0.05 unless given)."""
    params = {"learning_rate_init": 0.05, **params}
    coefs, intercepts = sklearn_initial_weights(0, [X.shape[1], 16, Y.shape[1]],
                                                ["tanh"])  # fmt: skip
    sw = np.ones(len(X)) if sw is None else sw
    return torch_train(coefs, intercepts, X, Y, sw, ["tanh"], "squared_error", 0.0,
                       solver, 10, grad_norms=grad_norms,
                       **{REFERENCE_ARGS[k]: v for k, v in params.items()})  # fmt: skip


def schedule_fit(X, Y, solver, sw=None, **params):
    params = {"learning_rate_init": 0.05, **params}
    est = fit_regressor(X, Y, sw, hidden_layer_sizes=(16,), activation="tanh",
                        solver=solver, batch_size=10, **params)  # fmt: skip
    return fastmlp_weights(est)


def assert_some_clipped(norms, max_grad_norm):
    """The clipping can fail the test: some steps' norms are above the bound,
    some below, none within clip_grad_norm_'s 1e-6 of it."""
    clipped = sum(n > max_grad_norm for n in norms)
    assert 0 < clipped < len(norms), (clipped, len(norms))
    assert min(abs(n - max_grad_norm) for n in norms) > 1e-3


def test_schedule_factor_is_the_spec():
    """The reference's s(t) itself, on hand-computed values."""
    # T = 21, warmup 0.3: W = round(6.3) = 6
    linear = [schedule_factor(t, 21, 0.3, "linear") for t in (0, 5, 6, 13, 20)]
    assert linear == [1 / 6, 1.0, 1.0, 1 - 7 / 15, 1 - 14 / 15]
    assert schedule_factor(13, 21, 0.3, "cosine") == pytest.approx(
        (1 + math.cos(math.pi * 7 / 15)) / 2, rel=1e-15
    )
    assert schedule_factor(10, 21, 0.5, None) == 1.0  # W = round(10.5) = 10
    assert schedule_factor(9, 21, 0.5, None) == 1.0
    assert schedule_factor(8, 21, 0.5, None) == 0.9
    for shape in ("cosine", "linear"):
        assert schedule_factor(21, 21, None, shape) == 0.0  # t >= T: clamped
        assert schedule_factor(50, 21, 0.3, shape) == 0.0
        assert schedule_factor(0, 21, None, shape) == 1.0
    assert schedule_factor(3, 1, 0.9, "cosine") == 1.0  # T == W: 1 after warmup
    assert schedule_factor(7, 21, None, None) == 1.0


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("warmup", [None, 0.3])
@pytest.mark.parametrize("shape", ["cosine", "linear"])
def test_lr_schedule_trains_as_torch(rng, shape, warmup, solver):
    """lr_schedule, with and without a warmup (W = round(0.3 * 21) = 6 steps),
    for SGD with Nesterov momentum and Adam (lr_t in its bias-corrected step)."""
    X, Y = problem(rng)
    params = dict(lr_schedule=shape, warmup=warmup)
    ref = schedule_reference(X, Y, solver, **params)
    assert_same_weights(schedule_fit(X, Y, solver, **params), ref)
    plain = schedule_reference(X, Y, solver)
    assert not np.allclose(ref[0], plain[0], rtol=1e-4)  # the schedule did act


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_warmup_alone_trains_as_torch(rng, solver):
    """warmup without lr_schedule: lr_t = lr (t + 1) / W, then lr. 0.5 * 21 =
    10.5: Python's round gives W = 10 (half to even), not 11."""
    assert round(0.5 * 21) == 10
    X, Y = problem(rng)
    ref = schedule_reference(X, Y, solver, warmup=0.5)
    assert_same_weights(schedule_fit(X, Y, solver, warmup=0.5), ref)
    plain = schedule_reference(X, Y, solver)
    assert not np.allclose(ref[0], plain[0], rtol=1e-4)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_max_grad_norm_clips_as_torch(rng, solver):
    """max_grad_norm: the batch gradient, the L2 term (alpha = 0.01) included,
    clipped to global norm 1.8 as torch.nn.utils.clip_grad_norm_ does."""
    X, Y = problem(rng)
    params = dict(alpha=1e-2, max_grad_norm=1.8)
    norms = []
    ref = schedule_reference(X, Y, solver, grad_norms=norms, **params)
    assert_some_clipped(norms, 1.8)
    assert_same_weights(schedule_fit(X, Y, solver, **params), ref)
    plain = schedule_reference(X, Y, solver, alpha=1e-2)
    assert not np.allclose(ref[0], plain[0], rtol=1e-4)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_decay_schedule_warmup_and_clipping_together(rng, solver):
    """AdamW (and SGD with decoupled decay) + cosine + warmup (W = round(4.2)
    = 4) + clipping, with sample weights and alpha: per step gradient (with
    the L2 term) -> clip -> W *= 1 - lr_t * weight_decay -> the step with lr_t."""
    X, Y = problem(rng)
    sw = rng.uniform(0.2, 3.0, len(X))
    params = dict(alpha=1e-3, weight_decay=0.05, lr_schedule="cosine", warmup=0.2,
                  max_grad_norm=1.8)  # fmt: skip
    norms = []
    ref = schedule_reference(X, Y, solver, sw, grad_norms=norms, **params)
    assert_some_clipped(norms, 1.8)
    assert_same_weights(schedule_fit(X, Y, solver, sw, **params), ref)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("max_iter", [1, 3])
def test_partial_fit_continues_the_schedule(rng, max_iter, solver):
    """Three partial_fit calls on chunks of 30, 20 and 40 rows (3, 2 and 4
    steps of 10 rows) are one torch run over the 90 rows: the step counter (the
    schedule's and Adam's) and the momentum carry on across the calls, T =
    max_iter x the steps of the call's chunk. max_iter=3: T = 9, 6, 12 for the
    steps t = 0-2, 3-4, 5-8 (W = 2, 1, 2); max_iter=1: T = 3, 2, 4, so the
    second and third calls are past T (s = 0: Adam stands still, SGD coasts on
    its momentum)."""
    X, Y = problem(rng, n=90)
    first = [0, 3, 5, 9]  # each call's first step, and the end

    def total_steps(t):
        call = max(i for i in range(3) if first[i] <= t)
        return max_iter * (first[call + 1] - first[call])

    est = MLPRegressor(hidden_layer_sizes=(16,), activation="tanh", solver=solver,
                       batch_size=10, learning_rate_init=0.05, shuffle=False,
                       random_state=0, momentum=0.9, max_iter=max_iter,
                       lr_schedule="cosine", warmup=0.2)  # fmt: skip
    for a, b in zip((0, 30, 50), (30, 50, 90)):
        est.partial_fit(X[a:b], Y[a:b])
    coefs, intercepts = sklearn_initial_weights(0, [5, 16, 2], ["tanh"])
    ref = torch_train(coefs, intercepts, X, Y, np.ones(90), ["tanh"],
                      "squared_error", 0.0, solver, 10, lr=0.05, schedule="cosine",
                      warmup=0.2, total_steps=total_steps, epochs=1)  # fmt: skip
    assert_same_weights(fastmlp_weights(est), ref)


def test_each_fit_starts_the_schedule_again(rng):
    """A second fit under warm_start counts its steps from 0 again (and, as
    scikit-learn, starts a new Adam): two torch runs, the second from the
    first's weights."""
    X, Y = problem(rng)
    est = MLPRegressor(hidden_layer_sizes=(16,), activation="tanh", solver="adam",
                       batch_size=10, learning_rate_init=0.05, shuffle=False,
                       random_state=0, max_iter=EPOCHS, tol=0.0,
                       n_iter_no_change=1000, warm_start=True,
                       lr_schedule="linear", warmup=0.3)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, Y)
        est.fit(X, Y)
    ref = schedule_reference(X, Y, "adam", lr_schedule="linear", warmup=0.3)
    ref = torch_train(ref[:2], ref[2:], X, Y, np.ones(len(X)), ["tanh"],
                      "squared_error", 0.0, "adam", 10, lr=0.05, schedule="linear",
                      warmup=0.3)  # fmt: skip
    assert_same_weights(fastmlp_weights(est), ref)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_classifier_with_schedule_and_clipping_trains_as_torch(rng, solver):
    """Softmax output: linear schedule, warmup (T = 4 x 3 = 12, W = 3),
    clipping to 0.5 and alpha = 0.01."""
    X = rng.standard_normal((60, 4))
    y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int) + (X[:, 2] > 1)
    est = MLPClassifier(hidden_layer_sizes=(10,), activation="tanh", solver=solver,
                        shuffle=False, random_state=0, max_iter=EPOCHS, tol=0.0,
                        n_iter_no_change=1000, batch_size=15, alpha=1e-2,
                        learning_rate_init=0.05, lr_schedule="linear",
                        warmup=0.25, max_grad_norm=0.5)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    coefs, intercepts = sklearn_initial_weights(0, [4, 10, 3], ["tanh"])
    norms = []
    ref = torch_train(coefs, intercepts, X, np.eye(3)[y], np.ones(60), ["tanh"],
                      "log_loss", 0.0, solver, 15, alpha=1e-2, lr=0.05,
                      schedule="linear", warmup=0.25, max_grad_norm=0.5,
                      grad_norms=norms)  # fmt: skip
    assert_some_clipped(norms, 0.5)
    assert_same_weights(fastmlp_weights(est), ref)
