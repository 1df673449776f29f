"""One SGD step on a 2-2-1 network, worked out by hand.

    W1 = [[0.1, 0.2], [0.3, -0.4]]   b1 = [0.1, 0.1]   (relu)
    W2 = [[0.5], [-0.6]]             b2 = [0.2]        (identity)
    x = [1, 2], y = 1, learning rate 0.1, momentum 0, alpha 0

forward:  u1 = x W1 + b1 = [0.1 + 0.6 + 0.1, 0.2 - 0.8 + 0.1] = [0.8, -0.5]
          h1 = relu(u1) = [0.8, 0];  p = h1 W2 + b2 = 0.4 + 0.2 = 0.6
loss:     0.5 (y - p)^2 = 0.5 * 0.16 = 0.08
backward: d2 = p - y = -0.4
          dW2 = h1^T d2 = [[-0.32], [0]],  db2 = [-0.4]
          dh1 = d2 W2^T = [-0.2, 0.24];  relu'(u1) = [1, 0]  ->  d1 = [-0.2, 0]
          dW1 = x^T d1 = [[-0.2, 0], [-0.4, 0]],  db1 = [-0.2, 0]
update:   W -= 0.1 dW
          W1 = [[0.12, 0.2], [0.34, -0.4]]  b1 = [0.12, 0.1]
          W2 = [[0.532], [-0.6]]            b2 = [0.24]
"""

import numpy as np
from numpy.testing import assert_allclose

from fastmlp import MLPRegressor


def test_one_sgd_step_by_hand():
    reg = MLPRegressor(
        hidden_layer_sizes=(2,),
        activation="relu",
        solver="sgd",
        learning_rate_init=0.1,
        momentum=0.0,
        alpha=0.0,
        batch_size=1,
        shuffle=False,
        random_state=0,
    )
    # Set the weights by hand, as scikit-learn's own test_fit does.
    reg.coefs_ = [np.array([[0.1, 0.2], [0.3, -0.4]]), np.array([[0.5], [-0.6]])]
    reg.intercepts_ = [np.array([0.1, 0.1]), np.array([0.2])]
    reg.n_features_in_ = 2
    reg.n_outputs_ = 1
    reg.n_layers_ = 3
    reg.out_activation_ = "identity"
    reg.t_ = 0
    reg.best_loss_ = np.inf
    reg.loss_curve_ = []
    reg._no_improvement_count = 0

    reg.partial_fit(np.array([[1.0, 2.0]]), np.array([1.0]))

    assert_allclose(reg.coefs_[0], [[0.12, 0.2], [0.34, -0.4]], rtol=1e-14)
    assert_allclose(reg.intercepts_[0], [0.12, 0.1], rtol=1e-14)
    assert_allclose(reg.coefs_[1], [[0.532], [-0.6]], rtol=1e-14)
    assert_allclose(reg.intercepts_[1], [0.24], rtol=1e-14)
    assert_allclose(reg.loss_, 0.08, rtol=1e-14)
    assert reg.t_ == 1 and reg.n_iter_ == 1
