import numpy as np
import pytest

# Kernel against its NumPy twin (STYLE 3.7). float32 bounds scale with the
# length of the reduction where a test says so.
TOL = {
    np.float64: dict(rtol=1e-10, atol=1e-12),
    np.float32: dict(rtol=2e-5, atol=1e-6),
}
DTYPES = [np.float32, np.float64]


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session", autouse=True)
def _compile_once():
    """Compile the training and prediction kernels once per session, for both
    dtypes, so no test pays (or repeats) Numba's compile time."""
    from fastmlp._warmup import warmup

    warmup()
