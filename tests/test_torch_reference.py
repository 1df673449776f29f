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


def torch_train(coefs, intercepts, X, Y, sw, activations, loss, param, solver,
                batch_size, alpha=1e-4, lr=1e-3, masks=None, weight_decay=0.0):  # fmt: skip
    """EPOCHS epochs of scikit-learn's mini-batch loop in torch (float64).

    ``masks(epoch, layer, rows)``: dropout multipliers for hidden layer
    ``layer`` on the batch's rows, or None. With log_loss the output is
    softmax (P is its pre-activation in row_losses). ``weight_decay``:
    before each step W <- W - lr * weight_decay * W on the coefficients (not
    the intercepts), the gradient (with the L2 term) taken before it."""
    params = [torch.tensor(a, requires_grad=True) for a in (*coefs, *intercepts)]
    n_layers = len(coefs)
    Ws, bs = params[:n_layers], params[n_layers:]
    state = [torch.zeros_like(p) for p in params]
    state2 = [torch.zeros_like(p) for p in params]
    t = 0
    X, Y, sw = (torch.tensor(a) for a in (X, Y, sw))
    n = X.shape[0]
    for epoch in range(EPOCHS):
        for start in range(0, n, batch_size):
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
            with torch.no_grad():
                t += 1
                for i, (p, m, v) in enumerate(zip(params, state, state2)):
                    g = p.grad
                    if i < n_layers:
                        p.mul_(1 - lr * weight_decay)
                    if solver == "sgd":  # momentum 0.9, Nesterov
                        m.mul_(0.9).sub_(lr * g)
                        p.add_(0.9 * m - lr * g)
                    else:  # scikit-learn's Adam
                        m.mul_(0.9).add_(0.1 * g)
                        v.mul_(0.999).add_(0.001 * g * g)
                        lr_t = lr * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
                        p.sub_(lr_t * m / (v.sqrt() + 1e-8))
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
