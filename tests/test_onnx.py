"""skl2onnx.to_onnx on fastmlp's estimators (fastmlp/_onnx.py): the ONNX model,
run by onnxruntime, against fastmlp's own predict/predict_proba on the same
float32 input.

Tolerances: probabilities lie in [0, 1] and are compared with atol=1e-5 (rtol=0),
the acceptance bound; regression outputs with rtol=1e-5 and an atol of 1e-5
times the largest |prediction| of that output (float32 rounding scales with
the magnitude, which target_scaling restores). Labels must be equal.
"""

import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError

skl2onnx = pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")

from fastmlp import MLPClassifier, MLPRegressor  # noqa: E402
from fastmlp._kernels.activations import HIDDEN_ACTIVATIONS  # noqa: E402

PROBA_TOL = dict(rtol=0, atol=1e-5)


def features(n=150, seed=0):
    """float32 features on very different scales and offsets (so that
    input_scaling matters), and a second, unseen batch to predict."""
    rng = np.random.default_rng(seed)
    scale = np.array([1.0, 10.0, 100.0, 0.1, 1000.0])
    offset = np.array([0.0, 5.0, 2000.0, -1.0, 1e4])
    X = rng.normal(size=(2 * n, 5)) * scale + offset
    return X[:n].astype(np.float32), X[n:].astype(np.float32)


def fitted(cls, X, y, **params):
    """A ``cls`` briefly fitted on X, y (convergence does not matter here), with
    input_scaling unless ``params`` say otherwise."""
    defaults = dict(
        hidden_layer_sizes=(8,), input_scaling="standard", max_iter=40, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cls(**(defaults | params)).fit(X, y)


def run(onx, X):
    session = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X})


def assert_regression_close(got, expected):
    expected = expected.reshape(len(expected), -1)
    assert got.shape == expected.shape
    for g, e in zip(got.T, expected.T, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5 * np.abs(e).max())


@pytest.mark.parametrize("n_classes", [2, 4])
def test_classifier(n_classes):
    X, X_test = features()
    score = (X[:, 2] - 2000) / 100 + (X[:, 4] - 1e4) / 1000
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
    est = fitted(MLPClassifier, X, y, hidden_layer_sizes=(16, 8), max_iter=60)
    assert len(est.classes_) == n_classes
    labels, proba = run(skl2onnx.to_onnx(est, X[:1], options={"zipmap": False}), X_test)
    np.testing.assert_allclose(proba, est.predict_proba(X_test), **PROBA_TOL)
    np.testing.assert_array_equal(labels, est.predict(X_test))


def test_classifier_string_labels_and_zipmap():
    X, X_test = features()
    y = np.where(X[:, 2] > 2000, "high", "low")
    est = fitted(MLPClassifier, X, y, input_scaling="minmax")
    labels, proba = run(skl2onnx.to_onnx(est, X[:1]), X_test)  # zipmap: dicts
    np.testing.assert_array_equal(labels, est.predict(X_test))
    as_array = np.array([[row[c] for c in est.classes_] for row in proba])
    np.testing.assert_allclose(as_array, est.predict_proba(X_test), **PROBA_TOL)


def test_classifier_options_nocl_and_columns():
    X, X_test = features()
    y = np.array([3, 7, 9])[(X[:, 2] > 2000).astype(int) + (X[:, 4] > 1e4)]
    est = fitted(MLPClassifier, X, y)
    options = {"zipmap": False, "nocl": True}
    index, _ = run(skl2onnx.to_onnx(est, X[:1], options=options), X_test)
    np.testing.assert_array_equal(est.classes_[index], est.predict(X_test))
    onx = skl2onnx.to_onnx(est, X[:1], options={"zipmap": "columns"})
    assert [o.name for o in onx.graph.output] == ["output_label", "i3", "i7", "i9"]
    labels, *columns = run(onx, X_test)
    np.testing.assert_array_equal(labels, est.predict(X_test))
    proba = np.column_stack(columns)
    np.testing.assert_allclose(proba, est.predict_proba(X_test), **PROBA_TOL)


def test_classifier_multilabel():
    X, X_test = features()
    Y = np.column_stack([X[:, 2] > 2000, X[:, 4] > 1e4, X[:, 0] > 0]).astype(int)
    est = fitted(MLPClassifier, X, Y, hidden_layer_sizes=(16,), max_iter=60)
    onx = skl2onnx.to_onnx(est, X[:1], options={"zipmap": False})
    labels, proba = run(onx, X_test)
    assert labels.shape == proba.shape == (len(X_test), 3)
    np.testing.assert_allclose(proba, est.predict_proba(X_test), **PROBA_TOL)
    np.testing.assert_array_equal(labels, est.predict(X_test))


def test_classifier_in_a_pipeline():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, X_test = features()
    y = (X[:, 2] > 2000).astype(int) + (X[:, 4] > 1e4)
    mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=40, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe = make_pipeline(StandardScaler(), mlp).fit(X, y)
    onx = skl2onnx.to_onnx(pipe, X[:1], options={"zipmap": False})
    labels, proba = run(onx, X_test)
    np.testing.assert_allclose(proba, pipe.predict_proba(X_test), **PROBA_TOL)
    np.testing.assert_array_equal(labels, pipe.predict(X_test))


@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("target_scaling", [None, "standard", "minmax"])
def test_regressor(n_outputs, target_scaling):
    X, X_test = features()
    noise = np.random.default_rng(1).normal(size=len(X))
    Y = np.column_stack(
        [np.sin(X[:, 0]) * 50 + 300, (X[:, 2] - 2000) * X[:, 3], noise]
    )[:, :n_outputs]
    est = fitted(
        MLPRegressor,
        X,
        Y.ravel() if n_outputs == 1 else Y,
        hidden_layer_sizes=(16, 8),
        target_scaling=target_scaling,
        max_iter=60,
    )
    (pred,) = run(skl2onnx.to_onnx(est, X[:1]), X_test)
    assert_regression_close(pred, est.predict(X_test))


@pytest.mark.parametrize(
    "activation", [*HIDDEN_ACTIVATIONS, ["gelu", "leaky_relu", "softplus"]]
)
def test_every_hidden_activation(activation):
    X, X_test = features()
    n_hidden = len(activation) if isinstance(activation, list) else 2
    est = fitted(
        MLPRegressor,
        X,
        np.tanh(X[:, 0]) + X[:, 1] / 10,
        hidden_layer_sizes=(12,) * n_hidden,
        activation=activation,
        target_scaling="standard",
        max_iter=30,
    )
    X_wide = X_test * np.float32(3)  # pre-activations far into both tails
    (pred,) = run(skl2onnx.to_onnx(est, X[:1]), X_wide)
    assert_regression_close(pred, est.predict(X_wide))


def test_poisson_exp_output_with_target_scaling():
    # scikit-learn's MLP (and to_sklearn) cannot express exp(z) * scale + offset
    X, X_test = features()
    y = np.exp(np.clip(X[:, 0], -2, 2)) + 0.5
    est = fitted(MLPRegressor, X, y, loss="poisson", target_scaling="minmax")
    (pred,) = run(skl2onnx.to_onnx(est, X[:1]), X_test)
    assert_regression_close(pred, est.predict(X_test))


def test_float64_input_computes_in_float64():
    X, X_test = (a.astype(np.float64) for a in features())
    est = fitted(MLPClassifier, X, X[:, 2] > 2000)
    _, proba = run(skl2onnx.to_onnx(est, X[:1], options={"zipmap": False}), X_test)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba, est.predict_proba(X_test), rtol=0, atol=1e-12)


def test_unknown_activation_is_a_clear_error():
    X, _ = features()
    est = fitted(MLPRegressor, X, X[:, 0], max_iter=5)
    est.activation = "mish"  # a name with no ONNX form
    with pytest.raises(ValueError, match="no ONNX form of the 'mish' activation"):
        skl2onnx.to_onnx(est, X[:1])


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_unfitted_is_not_fitted_error(cls):
    X, _ = features()
    with pytest.raises(NotFittedError):
        skl2onnx.to_onnx(cls(), X[:1])


# The converters are registered whichever of skl2onnx and fastmlp's estimators
# is imported first. Each order runs in a fresh interpreter; the model arrives
# by pickle, whose load imports fastmlp._estimators directly.
CHILD_PROLOGUES = {
    "fastmlp_first": """
        import fastmlp, fastmlp._onnx
        assert "skl2onnx" not in sys.modules and "sklearn" not in sys.modules
        est = pickle.loads(blob)
        assert "skl2onnx" not in sys.modules
        assert fastmlp._onnx._FINDER in sys.meta_path
        import skl2onnx
    """,
    "skl2onnx_first": """
        import skl2onnx
        est = pickle.loads(blob)
        import fastmlp._onnx
    """,
}
CHILD_BODY = """
    import numpy as np, onnxruntime as ort
    assert fastmlp._onnx._FINDER not in sys.meta_path  # registered, and gone
    onx = skl2onnx.to_onnx(est, X[:1], options={"zipmap": False})
    session = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    _, proba = session.run(None, {session.get_inputs()[0].name: X})
    np.testing.assert_allclose(proba, expected, rtol=0, atol=1e-5)
    print("converted")
"""


@pytest.mark.parametrize("order", sorted(CHILD_PROLOGUES))
def test_registration_in_either_import_order(order, tmp_path):
    X, X_test = features()
    est = fitted(MLPClassifier, X, X[:, 2] > 2000, max_iter=20)
    case = tmp_path / "case.pkl"
    case.write_bytes(
        pickle.dumps((pickle.dumps(est), X_test, est.predict_proba(X_test)))
    )
    script = (
        "import pickle, sys\n"
        f"blob, X, expected = pickle.loads(open({str(case)!r}, 'rb').read())\n"
        + textwrap.dedent(CHILD_PROLOGUES[order])
        + textwrap.dedent(CHILD_BODY)
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "converted"
