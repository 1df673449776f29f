"""scikit-learn's estimator contract, run by scikit-learn itself."""

import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastmlp import MLPClassifier, MLPRegressor


@parametrize_with_checks([MLPClassifier(max_iter=100), MLPRegressor(max_iter=100)])
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        # scikit-learn's own MLP emits these on the checks' tiny data sets too.
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
