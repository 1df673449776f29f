"""scikit-learn estimators: validation, labels and attributes; the work is in
``_solver`` and ``_kernels``."""

import copy
from contextlib import contextmanager
from itertools import chain
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    _fit_context,
    is_classifier,
)
from sklearn.metrics import accuracy_score, check_scoring, r2_score
from sklearn.neural_network._multilayer_perceptron import BaseMultilayerPerceptron
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from . import _solver
from ._callbacks import (
    CallbackSupportMixin,
    fit_task,
    is_callback_attr,
    partial_fit_task,
)
from ._kernels.activations import ACTIVATION_CODES, HIDDEN_ACTIVATIONS
from ._kernels.epochs import SCORE_ACCURACY_ARGMAX, SCORE_ACCURACY_THRESHOLD, SCORE_R2
from ._kernels.losses import LOSS_CODES
from ._kernels.network import C_DROPOUT_SEED, C_LOSS, C_OUT, N_CODES
from ._labels import binarize_labels, transform_labels
from ._params import ParamLayout, glorot_uniform
from ._scaling import apply_scaling, fit_scaling
from ._threads import numba_threads

_STOCHASTIC_SOLVERS = ["sgd", "adam"]
# Lists of weight arrays that fit only ever replaces (see _rollback_on_error).
_WEIGHT_LISTS = ("coefs_", "intercepts_", "_best_coefs", "_best_intercepts")


_PARAM_NAMES = {}  # class -> BaseEstimator._get_param_names()
DOC_URL = "https://pypi.org/project/fastmlp/{version}/"


class BaseMLP(CallbackSupportMixin, BaseEstimator):
    """Shared machinery of MLPClassifier and MLPRegressor. Not for direct use."""

    @classmethod
    def _get_param_names(cls):
        """scikit-learn's sorted constructor parameters, inspected once per class
        (scikit-learn reads ``__init__``'s signature on every ``get_params``,
        which each fit calls and ``clone`` calls: ~0.05 ms each time)."""
        names = _PARAM_NAMES.get(cls)
        if names is None:
            names = _PARAM_NAMES[cls] = super()._get_param_names()
        return list(names)

    # The HTML repr's "?" link: fastmlp's documentation (its README, as PyPI
    # shows it for this version; pyproject's Documentation URL), not the page
    # of scikit-learn's own MLP.
    _doc_link_module = "fastmlp"
    _doc_link_template = DOC_URL

    def _doc_link_url_param_generator(self):
        from . import __version__

        return {"version": __version__}

    # scikit-learn's own constraints, so bad values fail with its exact wording.
    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "batch_size": [
            StrOptions({"auto", "full"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "n_jobs": [None, Interval(Integral, None, None, closed="neither")],
        "input_scaling": [None, StrOptions({"standard", "minmax"})],
        # fastmlp's hidden activations, and one per hidden layer (_hidden_activations)
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS)), list, tuple],
        "dropout": [None, Interval(Real, 0, 1, closed="left"), list, tuple],
        "weight_decay": [None, Interval(Real, 0, None, closed="left")],
        "lr_schedule": [None, StrOptions({"cosine", "linear"})],
        "warmup": [None, Interval(Real, 0, 1, closed="left")],
        "max_grad_norm": [None, Interval(Real, 0, None, closed="neither")],
        "scoring": [None, StrOptions({"loss"}), str, callable],
    }

    def __init__(
        self,
        hidden_layer_sizes,
        activation,
        solver,
        alpha,
        batch_size,
        learning_rate,
        learning_rate_init,
        power_t,
        max_iter,
        loss,
        shuffle,
        random_state,
        tol,
        verbose,
        warm_start,
        momentum,
        nesterovs_momentum,
        early_stopping,
        validation_fraction,
        beta_1,
        beta_2,
        epsilon,
        n_iter_no_change,
        max_fun,
        n_jobs,
        input_scaling,
        dropout,
        weight_decay,
        lr_schedule,
        warmup,
        max_grad_norm,
        scoring,
    ):
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.n_jobs = n_jobs
        self.input_scaling = input_scaling
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.warmup = warmup
        self.max_grad_norm = max_grad_norm
        self.scoring = scoring

    # ------------------------------------------------------ per-layer options
    def _hidden_activations(self, n_hidden):
        """The hidden layers' activation names, one per layer (ValueError for a
        sequence of the wrong length or with unknown names)."""
        if isinstance(self.activation, str):
            return [self.activation] * n_hidden
        names = list(self.activation)
        if len(names) != n_hidden:
            raise ValueError(
                f"activation has {len(names)} entries but hidden_layer_sizes has "
                f"{n_hidden} layers: give one activation per hidden layer, or one "
                "name for all."
            )
        for name in names:
            if name not in HIDDEN_ACTIVATIONS:
                raise ValueError(
                    f"activation {name!r} is not one of {sorted(HIDDEN_ACTIVATIONS)}."
                )
        return names

    def _dropout_rates(self, n_hidden):
        """The hidden layers' dropout rates, one per layer (ValueError for a
        sequence of the wrong length or a rate outside [0, 1))."""
        if self.dropout is None:
            return [0.0] * n_hidden
        if isinstance(self.dropout, Real):
            return [float(self.dropout)] * n_hidden
        rates = list(self.dropout)
        if len(rates) != n_hidden:
            raise ValueError(
                f"dropout has {len(rates)} rates but hidden_layer_sizes has "
                f"{n_hidden} layers: give one rate per hidden layer, or one for all."
            )
        for rate in rates:
            if not isinstance(rate, Real) or not 0.0 <= float(rate) < 1.0:
                raise ValueError(
                    f"dropout rates must be floats in [0, 1), got {rate!r}."
                )
        return [float(r) for r in rates]

    def _param_layout(self, layer_units, training=False):
        """ParamLayout of this network with its activations (and, for
        ``training``, its dropout rates)."""
        n_hidden = len(layer_units) - 2
        codes = [ACTIVATION_CODES[a] for a in self._hidden_activations(n_hidden)]
        rates = self._dropout_rates(n_hidden) if training else None
        return ParamLayout(layer_units, codes, rates)

    def _loss_param(self):
        """hp[H_LOSS_PARAM]: the loss's parameter (regressor losses only)."""
        return 0.0

    # -------------------------------------------------------------- scaling
    def _fit_input_scaling(self, X, sample_weight, first_pass):
        """Compute (first fit call) or check the input-scaling statistics."""
        fitted = hasattr(self, "input_scale_")
        if first_pass:
            if self.input_scaling is None:
                for name in ("input_offset_", "input_scale_"):
                    self.__dict__.pop(name, None)
            else:
                self.input_offset_, self.input_scale_ = fit_scaling(
                    X, self.input_scaling, sample_weight
                )
        elif fitted != (self.input_scaling is not None):
            raise ValueError(
                "input_scaling changed since the first fit (the statistics are "
                "computed on the first call and kept under warm_start and "
                "partial_fit). Fit again without warm_start."
            )

    def _fit_target_scaling(self, Y, sample_weight, first_pass):
        """Targets in the space the network is trained in (regressor only)."""
        return Y

    def _transform_input(self, X, dtype=None):
        """X in the network's input space: X itself without input_scaling, else
        a transformed copy."""
        if not hasattr(self, "input_scale_"):
            return X
        return apply_scaling(X, self.input_offset_, self.input_scale_, dtype)

    # ------------------------------------------------------------------ fit
    def _fit(self, X, y, sample_weight=None, incremental=False,
             validation=(None, None, None)):  # fmt: skip
        hidden_layer_sizes = self.hidden_layer_sizes
        if not hasattr(hidden_layer_sizes, "__iter__"):
            hidden_layer_sizes = [hidden_layer_sizes]
        hidden_layer_sizes = list(hidden_layer_sizes)
        if np.any(np.array(hidden_layer_sizes) <= 0):
            raise ValueError(
                "hidden_layer_sizes must be > 0, got %s." % hidden_layer_sizes
            )
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        hidden_activations = self._hidden_activations(len(hidden_layer_sizes))
        rates = self._dropout_rates(len(hidden_layer_sizes))
        if self.solver == "lbfgs" and any(rates):
            raise ValueError(
                "dropout needs a stochastic solver ('sgd' or 'adam'): L-BFGS's "
                "line search needs the same objective at every evaluation."
            )
        self._check_step_options()
        X_val, y_val, sample_weight_val = validation
        if X_val is None and (y_val is not None or sample_weight_val is not None):
            raise ValueError("y_val and sample_weight_val need X_val.")
        if X_val is not None and y_val is None:
            raise ValueError("X_val needs y_val.")
        if X_val is not None and self.solver == "lbfgs":
            raise ValueError(
                "A validation set (X_val, y_val) is scored after each epoch of "
                "'sgd' or 'adam'; 'lbfgs' has no epochs."
            )
        class_weight = getattr(self, "class_weight", None)
        if class_weight is not None and incremental and class_weight == "balanced":
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit. In order "
                "to use 'balanced' weights, use compute_class_weight('balanced', "
                "classes=classes, y=y). In place of y you can use a large enough "
                "sample of the full training set target to properly estimate the "
                "class frequency distributions. Pass the resulting weights as the "
                "class_weight parameter."
            )
        raw_y = y
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        sample_weight = self._row_weights(sample_weight, X, raw_y)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        # Statistics from the data as given; the network sees the scaled copies
        # (no copy is made when a scaling option is None).
        y = self._fit_target_scaling(y, sample_weight, first_pass)
        self._fit_input_scaling(X, sample_weight, first_pass)
        X_given = X
        X = self._transform_input(X)

        self.n_outputs_ = y.shape[1]
        val = None
        if X_val is not None:
            val = self._validation_set(X_val, y_val, sample_weight_val, X.dtype)
        layer_units = [X.shape[1]] + hidden_layer_sizes + [self.n_outputs_]
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, X.dtype, hidden_activations)
        if any(rates) and (first_pass or not hasattr(self, "_dropout_seed")):
            # the masks' seed (_kernels/dropout.py), drawn only with dropout
            self._dropout_seed = int(self._random_state.randint(0, 2**62))

        # L-BFGS-B works in float64, so lbfgs fits float64 parameters whatever
        # X's dtype (scikit-learn does the same).
        dtype = np.float64 if self.solver == "lbfgs" else X.dtype
        layout = self._param_layout(layer_units, training=True)
        theta = layout.pack(self.coefs_, self.intercepts_, dtype)
        codes = self._codes()
        if any(rates):
            codes[C_DROPOUT_SEED] = self._dropout_seed
        with numba_threads(self.n_jobs):
            if self.solver in _STOCHASTIC_SOLVERS:
                _solver.fit_stochastic(
                    self, theta, layout, X, y, sample_weight, codes, incremental,
                    val, self._scorer(val is not None), (X_given, raw_y),
                )  # fmt: skip
            else:
                _solver.fit_lbfgs(self, theta, layout, X, y, sample_weight, codes)

        weights = chain(self.coefs_, self.intercepts_)
        if not all(np.isfinite(w).all() for w in weights):
            raise ValueError(_solver.DIVERGED_MESSAGE)
        return self

    def _check_step_options(self):
        """weight_decay, lr_schedule, warmup and max_grad_norm: step rules of
        sgd and adam, the schedules on a constant base learning rate."""
        if self.solver == "lbfgs" and self.weight_decay:
            raise ValueError(
                "weight_decay is a step rule of 'sgd' and 'adam'; with 'lbfgs' "
                "use alpha (the L2 penalty) instead."
            )
        shaped = self.lr_schedule is not None or self.warmup is not None
        if self.solver == "lbfgs" and (shaped or self.max_grad_norm is not None):
            raise ValueError(
                "lr_schedule, warmup and max_grad_norm are step rules of 'sgd' "
                "and 'adam'; 'lbfgs' takes none of them."
            )
        if shaped and self.learning_rate != "constant":
            raise ValueError(
                "lr_schedule and warmup shape a constant learning rate: with "
                f"learning_rate={self.learning_rate!r} the two schedules would "
                "compound. Use learning_rate='constant'."
            )

    def _row_weights(self, sample_weight, X, y):
        """The rows' weights, checked, in X's dtype (None: all ones): with
        ``class_weight`` the same bits as passing compute_sample_weight(
        class_weight, y) (times sample_weight) as sample_weight."""
        class_weight = getattr(self, "class_weight", None)
        if class_weight is not None:
            weights = compute_sample_weight(class_weight, y)
            if sample_weight is not None:
                weights = weights * _check_sample_weight(
                    sample_weight, X, dtype=np.float64
                )
            sample_weight = weights
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        return sample_weight

    def _validation_set(self, X_val, y_val, sample_weight_val, dtype):
        """(X_val, Y_val, sample weights, X_val as given, y_val as given): the
        validation set in the network's space (input scaling applied, labels
        binarized or targets scaled), checked as X and y are."""
        X_given = validate_data(
            self, X_val, accept_sparse=["csr", "csc"], dtype=dtype, reset=False
        )
        y_given = np.asarray(y_val)
        check_consistent_length(X_given, y_given)
        Y_val = self._validation_targets(y_given)
        if Y_val.ndim == 1:
            Y_val = Y_val.reshape((-1, 1))
        if Y_val.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y_val has {Y_val.shape[1]} outputs but y has {self.n_outputs_}."
            )
        # scaled and weighted as the training rows are
        Y_val = self._fit_target_scaling(Y_val, None, first_pass=False)
        sw = self._row_weights(sample_weight_val, X_given, y_given)
        return self._transform_input(X_given), Y_val, sw, X_given, y_given

    def _scorer(self, validating):
        """The validation score: None for the compiled ones (scoring None or
        'loss', or nothing validated), else scikit-learn's scorer."""
        if self.scoring is None or self.scoring == "loss":
            return None
        if not validating and not self.early_stopping:
            return None
        return check_scoring(self, scoring=self.scoring)

    @contextmanager
    def _rollback_on_error(self):
        """Make a fit or partial_fit call all-or-nothing.

        Whatever ends the call with an exception (invalid input, divergence, a
        KeyboardInterrupt outside the epoch loop, MemoryError), the estimator is
        left exactly as it was before the call: a fitted model keeps its
        weights, optimizer state, counters and curves; an unfitted one stays
        unfitted. scikit-learn leaves partly updated attributes instead (e.g.
        non-finite ``coefs_`` after divergence). Hyperparameters are kept by
        reference (fit never changes them), and so are the weight arrays (a fit
        replaces them, never writes into them); everything else is deep-copied:
        per call, a copy of the optimizer moments (2 x n_params), measured at
        1.5 ms for a 784-1000-10 network, against 36 ms for its partial_fit on
        200 rows. Callback bookkeeping (_callbacks.is_callback_attr) is left as
        it is: the callbacks themselves, and the context scikit-learn tears down
        after a failed call."""
        params = set(self._get_param_names())
        saved = {
            k: v if k in params else list(v) if k in _WEIGHT_LISTS else copy.deepcopy(v)
            for k, v in self.__dict__.items()
            if not is_callback_attr(k)
        }
        try:
            yield
        except BaseException:
            kept = {k: v for k, v in self.__dict__.items() if is_callback_attr(k)}
            self.__dict__.clear()
            self.__dict__.update(saved)
            self.__dict__.update(kept)
            raise

    def _initialize(self, y, layer_units, dtype, hidden_activations):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        if not is_classifier(self):
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        elif self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"

        self.__dict__.pop("_dropout_seed", None)
        # one name: scikit-learn's factor for every layer (the output layer's
        # too, even without hidden layers); else each layer's own
        init = self.activation if isinstance(self.activation, str) else (
            hidden_activations or "relu"
        )  # fmt: skip
        self.coefs_, self.intercepts_ = glorot_uniform(
            self._random_state, layer_units, init, dtype
        )
        self._best_coefs = [c.copy() for c in self.coefs_]
        self._best_intercepts = [i.copy() for i in self.intercepts_]

        if self.solver in _STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    def _loss_name(self):
        if self.loss == "log_loss" and self.out_activation_ == "logistic":
            return "binary_log_loss"
        return self.loss

    def _codes(self):
        """Integer codes for the kernels (see _kernels.network.C_*); the solver
        fills in the solver and parallel-layout entries."""
        codes = np.zeros(N_CODES, dtype=np.int64)  # hidden layers': _param_layout
        codes[C_OUT] = ACTIVATION_CODES[self.out_activation_]
        codes[C_LOSS] = LOSS_CODES[self._loss_name()]
        return codes

    def _set_weights(self, theta, layout):
        self.coefs_, self.intercepts_ = layout.unpack(theta)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None,
            sample_weight_val=None):  # fmt: skip
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers in
            regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), default=None
            A validation set (fastmlp only; 'sgd' and 'adam'), scored after
            every epoch with ``scoring`` into ``validation_scores_``. With
            ``early_stopping=True`` it replaces the ``validation_fraction``
            split (all of X is trained on). Not transformed by earlier steps of
            a Pipeline.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Its targets; required with ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Its sample weights.

        Returns
        -------
        self : object
            Returns a trained MLP model.
        """
        with self._rollback_on_error(), fit_task(self, X, y, sample_weight):
            return self._fit(
                X, y, sample_weight=sample_weight, incremental=False,
                validation=(X_val, y_val, sample_weight_val),
            )  # fmt: skip

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic"
                " optimizers. %s is not stochastic." % self.solver
            )
        return True

    # -------------------------------------------------------------- predict
    def _check_predict_input(self, X):
        # dtype="numeric" as scikit-learn's predict has it, so bad input (e.g.
        # an array of strings) fails with its wording; then floats as before.
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        if X.dtype not in (np.float64, np.float32):
            X = X.astype(np.float64)
        return X

    def _network(self, X):
        """(layout, theta, dtype) of the fitted network for input X."""
        dtype = np.result_type(X.dtype, self.coefs_[0].dtype)
        layout = self._param_layout(
            [c.shape[0] for c in self.coefs_] + [self.n_outputs_]
        )
        return layout, layout.pack(self.coefs_, self.intercepts_, dtype), dtype

    def _forward_pass_fast(self, X, check_input=True, scaled=False):
        """Output-layer activations for X, computed by the compiled forward pass.

        ``scaled``: X is already in the network's input space (validation data
        during fit)."""
        if check_input:
            X = self._check_predict_input(X)
        layout, theta, dtype = self._network(X)
        if not scaled:
            X = self._transform_input(X, dtype)
        with numba_threads(self.n_jobs):
            return _solver.predict_raw(theta, layout, X, self._codes(), dtype)

    def jacobian(self, X):
        """Derivatives of the outputs with respect to the inputs, per sample.

        ``J[i, k, j] = d output_k / d X[i, j]`` at ``X[i]``, where the outputs are
        ``predict`` for the regressor (in the target's original units) and the
        columns of ``predict_proba`` for the classifier. Computed by a compiled
        reverse pass over blocks of rows; the chain rule through
        ``input_scaling`` (and ``target_scaling``) is included, so the
        derivative is with respect to X as passed in.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Points at which to differentiate. Sparse X is read in place (the
            derivative does not depend on sparsity); see ``input_scaling`` for
            which scalings accept it.

        Returns
        -------
        J : ndarray of shape (n_samples, n_outputs, n_features)
            In X's float dtype (float64 for non-float input), or the weights'
            dtype if wider. For a binary classifier n_outputs is 2
            (``-J`` and ``J``, matching ``predict_proba``'s two columns). ReLU is
            differentiated as 0 at 0, as in training.
        """
        check_is_fitted(self)
        X = self._check_predict_input(X)
        layout, theta, dtype = self._network(X)
        Xs = self._transform_input(X, dtype)
        with numba_threads(self.n_jobs):
            J = _solver.jacobian_raw(theta, layout, Xs, self._codes(), dtype)
        if hasattr(self, "input_scale_"):
            J /= self.input_scale_.astype(dtype, copy=False)  # d x_scaled / d x
        return self._output_jacobian(J)

    def _score_with_function(self, X, y, sample_weight, score_function):
        # Used for the early-stopping validation score during fit: X and y are
        # in the network's (scaled) space. R^2 per output is unchanged by the
        # same affine map on y and on the predictions.
        y_pred = self._predict(X, check_input=False, scaled=True)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------- interop
    def to_sklearn(self):
        """The fitted model as a scikit-learn estimator.

        Returns a fitted :class:`sklearn.neural_network.MLPClassifier` or
        ``MLPRegressor`` with the same parameters (less ``n_jobs`` and the
        scaling options), weights and fitted attributes, so its ``predict``,
        ``predict_proba`` and ``score`` give this model's results (to rounding).
        ``input_scaling`` and, for the identity output, ``target_scaling`` are
        folded into the first and last layers' weights; a Poisson regressor
        with ``target_scaling`` raises a ValueError. Useful to hand the model
        to tools that know scikit-learn's classes (e.g. skl2onnx).

        Returns
        -------
        est : sklearn.neural_network.MLPClassifier or MLPRegressor
        """
        from ._interop import to_sklearn

        return to_sklearn(self)

    @classmethod
    def from_sklearn(cls, est):
        """A fitted fastmlp model from a fitted scikit-learn MLP.

        Parameters
        ----------
        est : sklearn.neural_network.MLPClassifier or MLPRegressor
            Fitted; its parameters, weights and fitted attributes are copied
            (``n_jobs`` and the scaling options keep their defaults).

        Returns
        -------
        model : MLPClassifier or MLPRegressor
            Of this class; predictions equal scikit-learn's to rounding, and
            ``partial_fit``/``warm_start`` continue from its weights.
        """
        from ._interop import from_sklearn

        return from_sklearn(est, cls)


_COMMON_PARAMS_DOC = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.
    activation : str or list of str, default='relu'
        Activation function of the hidden layers: scikit-learn's 'identity',
        'logistic', 'tanh', 'relu', or fastmlp's 'leaky_relu' (slope 0.01),
        'elu' (alpha 1), 'gelu' (exact, erf based), 'silu' and 'softplus'
        (beta 1), as torch defines them; or a list/tuple with one name per
        hidden layer. The initial weights' scale follows each layer's own
        activation (scikit-learn's factor: 2 for 'logistic', else 6).
    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
        The weight optimiser. 'sgd' and 'adam' run each epoch in one compiled
        call; 'lbfgs' uses ``scipy.optimize.minimize(method="L-BFGS-B")`` with
        compiled full-batch loss and gradient.
    alpha : float, default=0.0001
        L2 penalty strength, divided by the batch's sample-weight sum.
    batch_size : int, 'auto' or 'full', default='auto'
        Rows per gradient step (sgd, adam; ignored by lbfgs). The three forms of
        gradient descent: 1 gives online (stochastic) gradient descent, an
        integer a mini-batch, and 'full' batch gradient descent (one step per
        epoch on all training rows; for ``partial_fit``, on the chunk passed
        in). 'auto' is scikit-learn's ``min(200, n_samples)``. ('full' is a
        fastmlp addition.)
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning-rate schedule for 'sgd'.
    learning_rate_init : float, default=0.001
        Initial learning rate ('sgd', 'adam').
    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.
    max_iter : int, default=200
        Epochs (sgd, adam) or iterations (lbfgs).
    shuffle : bool, default=True
        Reshuffle samples every epoch (sgd, adam).
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the shuffles and the early-stopping
        split, drawing exactly what scikit-learn draws.
    tol : float, default=1e-4
        Tolerance of the no-improvement stopping rule.
    verbose : bool, default=False
        Print the loss after each epoch.
    warm_start : bool, default=False
        Start from the previous solution when ``fit`` is called again.
    momentum : float, default=0.9
        SGD momentum.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum (sgd with momentum > 0).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when its score
        stops improving; the best weights are restored.

        .. note:: With ``warm_start``, the restored weights are always those that
           scored ``best_validation_score_``. When a warm fit finds no new best,
           scikit-learn returns that fit's last weights instead (its restored
           best weights alias ``coefs_`` and are updated in place).
    validation_fraction : float, default=0.1
        Held-out share for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's moment decay rates.
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    n_iter_no_change : int, default=10
        Epochs without ``tol`` improvement before stopping.
    max_fun : int, default=15000
        Maximum loss evaluations (lbfgs).
    n_jobs : int or None, default=None
        Threads for the compiled kernels (fastmlp only). None or -1: all of
        Numba's threads. Results are bit-identical for any value.
    input_scaling : {'standard', 'minmax'} or None, default=None
        Normalise the inputs inside the estimator (fastmlp only; None keeps
        scikit-learn's behaviour, and X is used as given, with no copy).
        'standard' maps each feature to zero mean and unit standard deviation,
        'minmax' to [0, 1]. The statistics come from the training data and
        honour ``sample_weight`` (weighted mean and population standard
        deviation; minimum and maximum over rows with nonzero weight); they are
        stored in ``input_offset_`` and ``input_scale_`` and applied by
        ``predict``, ``predict_proba``, ``score`` and ``jacobian``
        (x_scaled = (x - input_offset_) / input_scale_). A constant feature
        gets scale 1, so it maps to 0 (never NaN). ``fit`` and ``predict``
        work on a scaled copy of X. Under ``warm_start`` and ``partial_fit`` the
        statistics of the first fit call are kept; a ``fit`` without
        warm_start recomputes them. ``coefs_`` and ``intercepts_`` act on the
        scaled inputs.
    dropout : float or list of float, default=None
        Inverted dropout on the hidden layers' outputs during training with
        'sgd'/'adam' (fastmlp only): a rate in [0, 1) for every hidden layer,
        or one per layer. Each unit of each row is dropped with that
        probability and the kept ones scaled by 1 / (1 - rate); ``predict``,
        ``predict_proba``, ``score`` and ``jacobian`` use no dropout. The masks
        come from a counter-based generator keyed on ``random_state``, the
        epoch, the row and the unit, so fits are reproducible and bit-identical
        for any ``n_jobs``. None (or 0.0) trains exactly scikit-learn's model;
        'lbfgs' with dropout raises a ValueError.
        Sparse X is scaled without densifying, which needs offset 0: 'minmax'
        scales each column by its maximum and requires every stored value to
        be >= 0 (then it is the dense 'minmax' whenever the column's minimum
        is 0, e.g. it has an implicit zero). 'standard', or 'minmax' on negative
        values, would have to centre the columns and raises a ValueError.
    weight_decay : float >= 0, default=None
        Decoupled weight decay of the coefficients (not the intercepts), for
        'sgd' and 'adam' (fastmlp only): before each step ``W <- W - lr_t *
        weight_decay * W`` (lr_t the step's learning rate, see
        ``lr_schedule``), then the solver's step with the batch's gradient
        (with 'adam' this is AdamW, keeping scikit-learn's Adam formula and
        epsilon placement). Independent of ``alpha``, the L2 penalty in the
        loss. None (or 0.0) trains exactly scikit-learn's model; 'lbfgs' with a
        weight decay raises a ValueError.
    lr_schedule : {'cosine', 'linear'} or None, default=None
        The learning rate's shape over the fit's steps, for 'sgd' and 'adam'
        (fastmlp only): step t (0 at the first step of each ``fit``;
        ``partial_fit`` continues it) uses ``lr_t = learning_rate_init *
        s(t)`` with T = ``max_iter`` x steps per epoch (of a ``partial_fit``
        call: its batches) and W = round(``warmup`` x T) warm-up steps: s =
        (t + 1) / W for t < W, then 'cosine' s = (1 + cos(pi f)) / 2 or
        'linear' s = 1 - f, with f = (t - W) / (T - W) (held at 1 past T). With
        'adam' lr_t replaces ``learning_rate_init`` in scikit-learn's
        bias-corrected step. Needs ``learning_rate='constant'``.
    warmup : float in [0, 1), default=None
        The share of the T steps over which the learning rate rises linearly
        to ``learning_rate_init`` (see ``lr_schedule``; without one it then
        stays there).
    max_grad_norm : float > 0, default=None
        Clip each batch's gradient (every coefficient and intercept, the
        ``alpha`` term included) to this global L2 norm before the step, as
        ``torch.nn.utils.clip_grad_norm_`` does: multiplied by
        ``max_grad_norm / (norm + 1e-6)`` when that is below 1 (fastmlp only;
        'sgd' and 'adam').
    scoring : str, callable, 'loss' or None, default=None
        The validation score (fastmlp only), of early stopping's held-out
        rows or of the validation set given to ``fit`` (``X_val``, ``y_val``):
        None is scikit-learn's (accuracy, R^2); 'loss' the negated mean loss of
        the training objective without the ``alpha`` term (higher is better, as
        HistGradientBoosting's), computed in the compiled loop like None; a
        str or callable is a scorer of :func:`sklearn.metrics.get_scorer`
        (``scorer(estimator, X_val, y_val)``), called after each epoch with
        the model of that epoch (the epochs then run one per compiled call).
        ``validation_scores_``, ``best_validation_score_`` and the weights
        early stopping restores follow it.
"""


class MLPClassifier(ClassifierMixin, BaseMLP):
    __doc__ = (
        """Multi-layer perceptron classifier, compiled with Numba.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`: same
    parameters, attributes and behaviour, and the same model for the same
    ``random_state``; training runs each epoch in one compiled call.

    Parameters
    ----------"""
        + _COMMON_PARAMS_DOC
        + """
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes in the loss (fastmlp only): training is exactly
        that with ``sample_weight=compute_sample_weight(class_weight, y)``
        (times any ``sample_weight`` given), as in scikit-learn's linear
        models; with ``early_stopping`` the validation score is weighted the
        same way. ``partial_fit`` accepts a dict but not 'balanced' (as
        :class:`~sklearn.linear_model.SGDClassifier`), computing the weights
        of each chunk's labels.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    loss_ : float
    best_loss_ : float or None
    loss_curve_ : list of float
    validation_scores_ : list of float or None
        The validation score (``scoring``) after each epoch, with
        ``early_stopping`` or a validation set given to ``fit``; else None.
    best_validation_score_ : float or None
        Their best (the restored weights' with ``early_stopping``).
    t_ : int
        Training samples seen, cumulative over fits.
    coefs_ : list of ndarray of shape (fan_in, fan_out)
    intercepts_ : list of ndarray of shape (fan_out,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    n_iter_ : int
    n_layers_ : int
    n_outputs_ : int
    out_activation_ : str
    input_offset_ : ndarray of shape (n_features_in_,)
        Only with ``input_scaling``: subtracted from each feature (mean or
        minimum; 0 for sparse 'minmax'), in X's dtype.
    input_scale_ : ndarray of shape (n_features_in_,)
        Only with ``input_scaling``: each feature is then divided by it
        (standard deviation or range; 1 for constant features).

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The scikit-learn original.
    MLPRegressor : Multi-layer perceptron regressor.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from fastmlp import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01,
    ...                     max_iter=500, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:1]).shape
    (1, 3)
    >>> round(clf.score(X, y), 2)
    0.98
    """
    )

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        n_jobs=None,
        input_scaling=None,
        dropout=None,
        class_weight=None,
        weight_decay=None,
        lr_schedule=None,
        warmup=None,
        max_grad_norm=None,
        scoring=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss="log_loss",
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            n_jobs=n_jobs,
            input_scaling=input_scaling,
            dropout=dropout,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            warmup=warmup,
            max_grad_norm=max_grad_norm,
            scoring=scoring,
        )
        self.class_weight = class_weight

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "class_weight": [None, StrOptions({"balanced"}), dict],
    }

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer, Y = binarize_labels(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
            Y = transform_labels(self._label_binarizer, y)
        # Y is bool: it keeps float32 X from being upcast when Y is cast to X's dtype.
        return X, Y

    def _validation_targets(self, y_val):
        """y_val binarized as y is (ValueError for labels not in classes_)."""
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        unseen = np.setdiff1d(unique_labels(y_val), self.classes_)
        if len(unseen):
            raise ValueError(
                f"y_val has labels not in y: {unseen}; the classes are {self.classes_}."
            )
        return transform_labels(self._label_binarizer, y_val)

    def _validation_scoring(self):
        """The compiled early-stopping score (epochs.SCORE_*): accuracy of the
        labels decoded as LabelBinarizer decodes them."""
        if self.out_activation_ == "softmax":
            return SCORE_ACCURACY_ARGMAX
        return SCORE_ACCURACY_THRESHOLD

    def predict(self, X):
        """Predict class labels for X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True, scaled=False):
        y_pred = self._forward_pass_fast(X, check_input=check_input, scaled=scaled)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return self._label_binarizer.inverse_transform(y_pred)

    def _output_jacobian(self, J):
        if self.n_outputs_ == 1:  # predict_proba's columns are 1 - p and p
            return np.concatenate([-J, J], axis=1)
        return J

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(
            X, y, sample_weight=sample_weight, score_function=accuracy_score
        )

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        classes : array of shape (n_classes,), default=None
            All classes; required on the first call.

        Returns
        -------
        self : object
        """
        with self._rollback_on_error(), partial_fit_task(self, X, y, sample_weight):
            if _check_partial_fit_first_call(self, classes):
                self._label_binarizer = LabelBinarizer()
                if type_of_target(y).startswith("multilabel"):
                    self._label_binarizer.fit(y)
                else:
                    self._label_binarizer.fit(classes)
            return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict_log_proba(self, X):
        """Log of ``predict_proba(X)``."""
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, BaseMLP):
    __doc__ = (
        """Multi-layer perceptron regressor, compiled with Numba.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`.

    Parameters
    ----------
    loss : {'squared_error', 'poisson', 'absolute_error', 'huber', 'quantile'}, \
default='squared_error'
        Half squared error (identity output) or half Poisson deviance (exp
        output), as scikit-learn; or (fastmlp, identity output) the absolute
        error, the Huber loss (``huber_delta``) or the pinball loss of a
        quantile (``quantile``; the model then predicts that conditional
        quantile). For these ``loss_`` is the mean over samples and outputs of
        the elementwise loss (as torch's ``L1Loss``, ``HuberLoss``) plus the L2
        term, and the gradient is exactly that loss's (scikit-learn's squared
        error instead uses n_outputs times its loss's gradient)."""
        + _COMMON_PARAMS_DOC
        + """
    target_scaling : {'standard', 'minmax'} or None, default=None
        Normalise the targets for training (fastmlp only; None keeps
        scikit-learn's behaviour): 'standard' to zero mean and unit standard
        deviation per output, 'minmax' to [0, 1], with the same weighted
        statistics as ``input_scaling``, stored in ``target_offset_`` and
        ``target_scale_`` and kept under ``warm_start``/``partial_fit``.
        ``predict`` and ``jacobian`` return the original units; ``loss_``,
        ``loss_curve_``, ``best_loss_`` and the network's weights are in scaled
        units. With ``loss='poisson'``, 'standard' raises a ValueError (centred
        targets are negative); 'minmax' is allowed and trains the Poisson
        deviance of (y - min) / (max - min), so predictions are bounded below by
        the smallest training target.

    huber_delta : float > 0, default=None
        With ``loss='huber'``: where the loss turns from quadratic to linear
        (None means 1.0, torch's default), in the units the network is trained
        in: those of ``target_scaling`` when it is set.
    quantile : float in (0, 1), default=None
        With ``loss='quantile'``: the quantile to predict (None means 0.5, the
        median).

    Attributes
    ----------
    Same as :class:`MLPClassifier` without ``classes_``, and with
    ``target_scaling``:

    target_offset_ : ndarray of shape (n_outputs_,)
        Subtracted from each target (mean or minimum).
    target_scale_ : ndarray of shape (n_outputs_,)
        Each target is then divided by it (1 for a constant target).

    .. note:: With ``solver='lbfgs'`` and several outputs, the gradient is that of
       the reported loss (averaged over outputs). scikit-learn's is ``n_outputs``
       times larger (scikit-learn #8349), which misleads its line search. With
       'sgd'/'adam' fastmlp keeps scikit-learn's scaling, so models match.

    See Also
    --------
    sklearn.neural_network.MLPRegressor : The scikit-learn original.

    Examples
    --------
    >>> import numpy as np
    >>> from fastmlp import MLPRegressor
    >>> X = np.linspace(0, 1, 50).reshape(-1, 1)
    >>> reg = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs",
    ...                    random_state=0).fit(X, X.ravel())
    >>> reg.predict(X[:2]).shape
    (2,)
    >>> reg.jacobian(X[:2]).shape  # d prediction / d feature, per sample
    (2, 1, 1)
    """
    )

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "loss": [
            StrOptions(
                {"squared_error", "poisson", "absolute_error", "huber", "quantile"}
            )
        ],
        "target_scaling": [None, StrOptions({"standard", "minmax"})],
        "huber_delta": [None, Interval(Real, 0, None, closed="neither")],
        "quantile": [None, Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        n_jobs=None,
        input_scaling=None,
        target_scaling=None,
        dropout=None,
        huber_delta=None,
        quantile=None,
        weight_decay=None,
        lr_schedule=None,
        warmup=None,
        max_grad_norm=None,
        scoring=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss=loss,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            n_jobs=n_jobs,
            input_scaling=input_scaling,
            dropout=dropout,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            warmup=warmup,
            max_grad_norm=max_grad_norm,
            scoring=scoring,
        )
        self.target_scaling = target_scaling
        self.huber_delta = huber_delta
        self.quantile = quantile

    def _loss_param(self):
        if self.loss == "huber":
            return 1.0 if self.huber_delta is None else float(self.huber_delta)
        if self.loss == "quantile":
            return 0.5 if self.quantile is None else float(self.quantile)
        return 0.0

    def predict(self, X):
        """Predict using the multi-layer perceptron model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True, scaled=False):
        y_pred = self._forward_pass_fast(X, check_input=check_input, scaled=scaled)
        if not scaled and hasattr(self, "target_scale_"):
            y_pred *= self.target_scale_.astype(y_pred.dtype, copy=False)
            y_pred += self.target_offset_.astype(y_pred.dtype, copy=False)
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _output_jacobian(self, J):
        if hasattr(self, "target_scale_"):
            J *= self.target_scale_.astype(J.dtype, copy=False)[:, None]
        return J

    def _fit_target_scaling(self, Y, sample_weight, first_pass):
        if first_pass:
            if self.target_scaling is None:
                for name in ("target_offset_", "target_scale_"):
                    self.__dict__.pop(name, None)
                return Y
            if self.target_scaling == "standard" and self.loss == "poisson":
                raise ValueError(
                    "target_scaling='standard' cannot be used with loss='poisson': "
                    "centred targets are negative, and the Poisson loss needs "
                    "y >= 0. Use target_scaling='minmax' or None."
                )
            offset, scale = fit_scaling(Y, self.target_scaling, sample_weight)
            self.target_offset_, self.target_scale_ = offset, scale
        elif hasattr(self, "target_scale_") != (self.target_scaling is not None):
            raise ValueError(
                "target_scaling changed since the first fit (the statistics are "
                "computed on the first call and kept under warm_start and "
                "partial_fit). Fit again without warm_start."
            )
        if not hasattr(self, "target_scale_"):
            return Y
        return apply_scaling(Y, self.target_offset_, self.target_scale_)

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(
            X, y, sample_weight=sample_weight, score_function=r2_score
        )

    def _validation_targets(self, y_val):
        """y_val checked as y is (the caller scales it as y)."""
        Y = check_array(y_val, ensure_2d=False, dtype=(np.float64, np.float32))
        if Y.ndim == 2 and Y.shape[1] == 1:
            Y = column_or_1d(Y, warn=True)
        return Y

    def _validation_scoring(self):
        """The compiled early-stopping score (epochs.SCORE_*): R^2."""
        return SCORE_R2

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    @available_if(lambda est: est._check_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        with self._rollback_on_error(), partial_fit_task(self, X, y, sample_weight):
            return self._fit(X, y, sample_weight=sample_weight, incremental=True)
