"""Export a fastmlp model to ONNX with skl2onnx, and run it with onnxruntime.

fastmlp registers its converters with skl2onnx, so ``skl2onnx.to_onnx`` takes the
fitted model itself (its ``input_scaling`` included); onnxruntime's
probabilities are checked against fastmlp's.

Needs the optional extra: ``pip install 'fastmlp[onnx]'`` (skl2onnx, onnxruntime);
without it the script says so and stops. Run: ``python examples/onnx_export.py``.
"""

import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from fastmlp import MLPClassifier


def main(scale=1.0, path=None):
    """Fit on digits, export, compare. Returns the largest absolute difference
    between onnxruntime's and fastmlp's probabilities (None without the extra)."""
    try:
        import onnxruntime as ort
        from skl2onnx import to_onnx
    except ImportError as exc:
        print(
            f"skl2onnx and onnxruntime are needed (pip install 'fastmlp[onnx]'): {exc}"
        )
        return None

    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32)  # ONNX models here take float32 tensors
    X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0)
    est = MLPClassifier(
        hidden_layer_sizes=(64,),
        input_scaling="standard",
        max_iter=max(5, int(100 * scale)),
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X_train, y_train)

    onx = to_onnx(
        est,
        X_train[:1],
        options={"zipmap": False},  # probabilities as one array
        target_opset=17,
    )
    if path is not None:
        with open(path, "wb") as f:
            f.write(onx.SerializeToString())
    session = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    labels, proba = session.run(None, {session.get_inputs()[0].name: X_test})
    ours = est.predict_proba(X_test)
    diff = float(np.abs(proba - ours).max())
    agree = float(np.mean(labels == est.predict(X_test)))
    print(f"ONNX model: {len(onx.SerializeToString()) / 1024:.0f} KiB")
    print(f"max |onnxruntime - fastmlp| probability: {diff:.2e}")
    print(f"labels agreeing: {agree:.4f}")
    return diff


if __name__ == "__main__":
    main()
