"""fastmlp: Numba-compiled multilayer perceptrons with scikit-learn's API.

The estimators are loaded on first access (PEP 562), so ``import fastmlp`` costs
a few milliseconds; ``from fastmlp import MLPClassifier`` then imports
scikit-learn, SciPy and Numba, most of it scikit-learn's own import time.
"""

from ._onnx import watch as _watch_skl2onnx

__version__ = "0.1.0.dev0"
__all__ = ["MLPClassifier", "MLPRegressor", "from_sklearn", "__version__"]

# skl2onnx.to_onnx converts fastmlp's estimators once skl2onnx is imported
_watch_skl2onnx()


def __getattr__(name):
    if name in ("MLPClassifier", "MLPRegressor"):
        from . import _estimators

        return getattr(_estimators, name)
    if name == "from_sklearn":
        from ._interop import from_sklearn

        return from_sklearn
    raise AttributeError(f"module 'fastmlp' has no attribute {name!r}")


def __dir__():
    return __all__
