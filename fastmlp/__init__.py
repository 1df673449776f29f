"""fastmlp: Numba-compiled multilayer perceptrons with scikit-learn's API."""

from ._estimators import MLPClassifier, MLPRegressor

__version__ = "0.1.0.dev0"
__all__ = ["MLPClassifier", "MLPRegressor", "__version__"]
