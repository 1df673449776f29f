"""fastmlp: Numba-compiled multilayer perceptrons with scikit-learn's API."""

__version__ = "0.1.0.dev0"
