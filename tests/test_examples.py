"""Every script in examples/ runs, at a reduced size, and does what it says:
its results are checked against independent expectations (scikit-learn's own
score, the analytic gradient of the example's function)."""

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(
        f"example_{name}", EXAMPLES / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _agg_backend():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")


def test_every_example_is_tested():
    scripts = {p.stem for p in EXAMPLES.glob("*.py")}
    assert scripts == {
        "quickstart",
        "pipeline_gridsearch",
        "batch_size_curve",
        "online_learning",
        "sensitivity",
        "out_of_core",
        "onnx_export",
        "imbalanced",
        "quantile_regression",
        "training_control",
    }
    for name in scripts:
        module = load(name)
        assert module.__doc__ and callable(module.main)
        assert 'if __name__ == "__main__":' in (EXAMPLES / f"{name}.py").read_text()


def test_quickstart(capsys):
    results = load("quickstart").main(scale=0.1)
    out = capsys.readouterr().out
    assert "| fastmlp |" in out and "| scikit-learn |" in out
    # Same random_state, same model as scikit-learn: the same accuracy.
    assert results["fastmlp"] == pytest.approx(results["scikit-learn"], abs=0.01)


def test_pipeline_gridsearch(capsys):
    search = load("pipeline_gridsearch").main(scale=0.05)
    assert len(search.cv_results_["params"]) == 4
    assert "held-out accuracy" in capsys.readouterr().out


def test_batch_size_curve_writes_png_and_table(tmp_path, capsys):
    out = tmp_path / "curve.png"
    times = load("batch_size_curve").main(scale=0.04, out=out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = capsys.readouterr().out
    assert "| batch_size |" in table
    sizes = [
        line.split("|")[1].strip() for line in table.splitlines() if line[:3] == "| 1"
    ]
    assert sizes[0] == "1"
    assert len(times["fastmlp"]) == len(times["scikit-learn"]) == 9  # 1 .. 256
    assert all(t > 0 for t in times["fastmlp"] + times["scikit-learn"])


def test_batch_size_curve_without_matplotlib(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    out = tmp_path / "curve.png"
    load("batch_size_curve").main(scale=0.04, out=out)
    printed = capsys.readouterr().out
    assert "matplotlib is not installed" in printed and "| batch_size |" in printed
    assert not out.exists()


def test_online_learning(capsys):
    running = load("online_learning").main(scale=0.05)
    assert len(running) == 19 and 0 <= running[-1] <= 1
    assert "running accuracy" in capsys.readouterr().out


def test_sensitivity_finds_the_informative_features(tmp_path):
    module = load("sensitivity")
    out = tmp_path / "sens.png"
    learned, true = module.main(scale=0.1, out=out)
    assert out.read_bytes()[:4] == b"\x89PNG"
    # The analytic gradient of Friedman #1 is zero for x5..x9.
    assert np.all(true[5:] == 0) and np.all(true[:5] > 0)
    # Even a short fit puts more weight on the five informative features.
    assert learned[:5].mean() > 2 * learned[5:].mean()


def test_out_of_core(tmp_path, capsys):
    results = load("out_of_core").main(scale=0.02, folder=tmp_path)
    out = capsys.readouterr().out
    assert "same weights as memmap: True" in out
    # The three ways see the same chunks in the same order: the same model.
    assert results["memmap"] > 0.6  # three classes: chance is about 1/3
    if "dask" in results:
        assert results["dask"] == results["memmap"]
    if "dask-ml" in results:
        assert results["dask-ml"] == results["memmap"]
    assert list(tmp_path.iterdir()) == []  # the data files are removed


def test_onnx_export(tmp_path):
    pytest.importorskip("skl2onnx")
    pytest.importorskip("onnxruntime")
    out = tmp_path / "model.onnx"
    diff = load("onnx_export").main(scale=0.1, path=out)
    assert out.stat().st_size > 0
    assert diff < 1e-5  # onnxruntime computes in float32


def test_imbalanced_class_weight(capsys):
    from sklearn.base import clone
    from sklearn.metrics import balanced_accuracy_score, recall_score
    from sklearn.utils.class_weight import compute_class_weight

    results = load("imbalanced").main(scale=0.15)
    out = capsys.readouterr().out
    assert "| plain |" in out and "identical weights: True" in out
    models = results["models"]
    X_test, y_test = results["test"]
    assert np.bincount(y_test).argmin() == 2  # class 2 is the rarest
    plain, weighted = "plain", "class_weight='balanced'"
    recall, balanced = {}, {}
    for name, model in models.items():
        pred = model.predict(X_test)
        recall[name] = recall_score(y_test, pred, average=None)
        balanced[name] = balanced_accuracy_score(y_test, pred)
        np.testing.assert_allclose(results["recall"][name], recall[name])
        assert results["balanced_accuracy"][name] == pytest.approx(balanced[name])
    # Weighting the rare classes up finds more of them, and more on average.
    assert recall[weighted][2] > recall[plain][2]
    assert balanced[weighted] >= balanced[plain] - 0.02
    # class_weight='balanced' is sample_weight=compute_sample_weight('balanced'):
    # the very same training, so the very same weights.
    coefs = results["coefs"]
    assert len(coefs["class_weight"]) == len(coefs["sample_weight"]) == 2
    for a, b in zip(coefs["class_weight"], coefs["sample_weight"]):
        np.testing.assert_array_equal(a, b)
    # So is the same weighting given as a {class: weight} dict.
    X_train, y_train = results["train"]
    classes = np.unique(y_train)
    weights = compute_class_weight("balanced", classes=classes, y=y_train)
    as_dict = clone(models[plain]).set_params(class_weight=dict(zip(classes, weights)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        as_dict.fit(X_train, y_train)
    for a, b in zip(as_dict.coefs_, coefs["class_weight"]):
        np.testing.assert_array_equal(a, b)


def test_quantile_regression_interval(tmp_path, capsys):
    from scipy.stats import norm

    out = tmp_path / "quantiles.png"
    results = load("quantile_regression").main(scale=0.2, plot_path=out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| quantile |" in capsys.readouterr().out
    X_test, y_test = results["test"]
    pred = {}
    for q, model in results["models"].items():
        assert model.loss == "quantile" and model.quantile == q
        pred[q] = model.predict(X_test)
    below = {q: np.mean(y_test < p) for q, p in pred.items()}
    assert results["below"] == pytest.approx(below)
    # 360 test points: a share's sampling error alone is about 0.01 (q=0.05).
    assert 0.0 <= below[0.05] <= 0.15
    assert 0.35 <= below[0.5] <= 0.65
    assert 0.85 <= below[0.95] <= 1.0
    coverage = np.mean((pred[0.05] <= y_test) & (y_test <= pred[0.95]))
    assert results["coverage"] == pytest.approx(coverage)
    assert 0.8 <= coverage <= 0.97
    # The noise grows with x, so must the interval: the true 90 % interval is
    # 2 * 1.645 * (0.2 + 0.25 x) wide (about 2.0, 4.8 and 7.5 in the thirds).
    widths = results["width_by_third"]
    assert widths[0] < widths[1] < widths[2]
    true_width = 2 * norm.ppf(0.95) * (0.2 + 0.25 * X_test[:, 0])
    assert np.mean(pred[0.95] - pred[0.05]) == pytest.approx(true_width.mean(), rel=0.3)


def test_training_control(tmp_path, capsys):
    """Both models stop on the given validation set's log-loss: the restored
    model's sklearn.metrics.log_loss is best_validation_score_ (negated); the
    plotted learning rates follow the documented schedule (the warm-up ends at
    learning_rate_init; the cosine then falls)."""
    from sklearn.metrics import log_loss

    out = tmp_path / "control.png"
    results = load("training_control").main(scale=0.25, plot_path=out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| model | epochs |" in capsys.readouterr().out
    X_val, y_val = results["validation"]
    has_bar = importlib.util.find_spec("rich") is not None and hasattr(
        results["models"]["Adam, constant rate"], "set_callbacks"
    )
    for est in results["models"].values():
        # scikit-learn's ProgressBar where there is one (>= 1.9, rich)
        assert hasattr(est, "_skl_callbacks") == has_bar
        assert len(est.validation_scores_) == est.n_iter_
        got = -log_loss(y_val, est.predict_proba(X_val))
        assert got == pytest.approx(est.best_validation_score_, rel=1e-9)
        assert est.best_validation_score_ == max(est.validation_scores_)
    shaped = results["models"]["AdamW + cosine + warm-up + clipping"]
    rates = load("training_control").learning_rates(shaped, results["n_train"])
    peak = int(np.argmax(rates))
    assert rates[peak] <= shaped.learning_rate_init
    assert all(a < b for a, b in zip(rates[:peak], rates[1 : peak + 1]))
    assert all(a > b for a, b in zip(rates[peak:-1], rates[peak + 1 :]))
