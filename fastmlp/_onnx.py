"""ONNX export through skl2onnx: ``skl2onnx.to_onnx(est, X)`` for a fitted
``fastmlp.MLPClassifier`` or ``MLPRegressor``.

Converters. fastmlp's own converters emit the network as fastmlp computes it:
``input_scaling`` as (x - offset) / scale, then MatMul + Add and the activation of
each layer, then (regressor) ``target_scaling`` as y * scale + offset. This is the
map that ``to_sklearn()`` folds into the first and last layer's weights, unfolded,
so it has no cancellation in float32 (a feature with a large mean makes the
folded first bias a difference of large terms), and it has no limits of
scikit-learn's MLP: every fastmlp activation (LeakyRelu, Elu, Softplus, and
silu = z * Sigmoid(z), gelu = z (1 + Erf(z / sqrt 2)) / 2 from standard ops), one
per hidden layer, the Poisson exp output with ``target_scaling``, and a
multi-output regressor as an (N, n_outputs) tensor. skl2onnx's converter for
scikit-learn's MLP (1.20) has one of four activations for all layers, no exp
output, and reshapes multi-output predictions to (N * n_outputs, 1).
The classifier's outputs follow skl2onnx's MLPClassifier converter: labels (int64
or strings; for multilabel, int64 0/1 indicators) and probabilities (1 - p, p for
binary), with its options zipmap, nocl and output_class_labels, which skl2onnx's
classifier parser applies.

Registration. skl2onnx's import takes about 0.9 s (after scikit-learn's) and
registering needs the estimator classes (Numba, about 0.3 s), while
``import fastmlp`` takes milliseconds. So ``import fastmlp`` only puts a small
finder on ``sys.meta_path`` (``watch()``), which watches two modules, skl2onnx
and fastmlp._estimators: when the second of them has been imported, in either
order, it registers the converters and removes itself. A model exists only once
fastmlp._estimators is imported, so the converters are there whenever skl2onnx
is, without either import paying for the other.
"""

import sys

_WATCHED = ("skl2onnx", "fastmlp._estimators")
_CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "output_class_labels": [False, True],
    "nocl": [True, False],
}
# activation name -> (ONNX operator, attributes); silu, gelu are composed below
_ONNX_ACTIVATIONS = {
    "logistic": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "relu": ("Relu", {}),
    "elu": ("Elu", {"alpha": 1.0}),
    "softplus": ("Softplus", {}),
    "softmax": ("Softmax", {"axis": 1}),
    "exp": ("Exp", {}),
}


# ------------------------------------------------------------- registration
def register():
    """Register fastmlp's converters with skl2onnx (idempotent)."""
    from skl2onnx import update_registered_converter

    from ._estimators import MLPClassifier, MLPRegressor

    update_registered_converter(
        MLPClassifier,
        "FastmlpMLPClassifier",
        _classifier_shapes,
        _convert,
        parser=_parse_classifier,
        options=_CLASSIFIER_OPTIONS,
    )
    update_registered_converter(
        MLPRegressor, "FastmlpMLPRegressor", _regressor_shapes, _convert
    )


def _ready(complete=None):
    """Both watched modules are imported. ``complete``: the one whose code has
    just run, which importlib marks as initialising until its import returns."""
    for name in _WATCHED:
        module = sys.modules.get(name)
        if module is None:
            return False
        if name != complete and getattr(module.__spec__, "_initializing", False):
            return False
    return True


def _register_if_ready(complete=None):
    if not _ready(complete):
        return
    try:
        sys.meta_path.remove(_FINDER)
    except ValueError:  # not there: watch() found both imported
        pass
    try:
        register()
    except Exception as exc:  # never break the import of skl2onnx or fastmlp
        import warnings

        warnings.warn(
            f"fastmlp could not register its skl2onnx converters: {exc!r}",
            RuntimeWarning,
            stacklevel=2,
        )


class _Loader:
    """The real loader, and registration once the module's code has run."""

    def __init__(self, loader):
        self.loader = loader

    def __getattr__(self, name):  # get_code, is_package, get_resource_reader...
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        _register_if_ready(module.__name__)


class _Finder:
    """sys.meta_path entry: finds a watched module with the other finders and
    wraps its loader; every other name it leaves to them."""

    def find_spec(self, name, path=None, target=None):
        if name not in _WATCHED:
            return None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            spec = find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Loader(spec.loader)
                return spec
        return None


_FINDER = _Finder()


def watch():
    """Register the converters once skl2onnx and the estimators are imported
    (now, if they are). Called by ``import fastmlp``."""
    if _ready():
        _register_if_ready()
    elif _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


# ---------------------------------------------------------------- converters
def _parse_classifier(scope, model, inputs, custom_parsers=None):
    """skl2onnx's classifier parser (the zipmap and label options), after a
    NotFittedError check: it reads ``classes_``."""
    from skl2onnx._parse import _parse_sklearn_classifier
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    return _parse_sklearn_classifier(scope, model, inputs, custom_parsers)


def _classifier_shapes(operator):
    from skl2onnx.common.data_types import Int64TensorType
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
    )

    calculate_linear_classifier_output_shapes(operator)
    est = operator.raw_operator
    if est._label_binarizer.y_type_ == "multilabel-indicator":
        n = operator.inputs[0].get_first_dimension()
        operator.outputs[0].type = Int64TensorType([n, est.n_outputs_])


def _regressor_shapes(operator):
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
    from skl2onnx.common.utils import check_input_and_output_numbers
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(operator.raw_operator)
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    double = isinstance(operator.inputs[0].type, DoubleTensorType)
    tensor_type = DoubleTensorType if double else FloatTensorType
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = tensor_type([n, operator.raw_operator.n_outputs_])


class _Graph:
    """Adds uniquely named nodes and constants to skl2onnx's container, in one
    float type (float32, or float64 for a float64 input)."""

    def __init__(self, scope, container, double):
        import numpy as np
        from onnx import TensorProto

        self.scope, self.container, self.types = scope, container, TensorProto
        self.dtype = np.float64 if double else np.float32
        self.float = TensorProto.DOUBLE if double else TensorProto.FLOAT

    def const(self, value, elem=None):
        """A constant of ``value`` in the float type, or of TensorProto.<elem>."""
        import numpy as np

        value = np.asarray(value, dtype=None if elem else self.dtype)
        kind = getattr(self.types, elem) if elem else self.float
        name = self.scope.get_unique_variable_name("const")
        self.container.add_initializer(name, kind, list(value.shape), value.ravel())
        return name

    def op(self, op_type, *inputs, out=None, **attrs):
        out = out or self.scope.get_unique_variable_name(op_type.lower())
        name = self.scope.get_unique_operator_name(op_type)
        self.container.add_node(op_type, list(inputs), out, name=name, **attrs)
        return out


def _activation(g, z, name):
    """f(z) for fastmlp's activation ``name``, as ONNX nodes."""
    from ._kernels.activations import LEAKY_SLOPE

    if name == "identity":
        return z
    if name == "leaky_relu":
        return g.op("LeakyRelu", z, alpha=LEAKY_SLOPE)
    if name == "silu":
        return g.op("Mul", z, g.op("Sigmoid", z))
    if name == "gelu":  # exact: z Phi(z) = z (1 + erf(z / sqrt 2)) / 2
        erf = g.op("Erf", g.op("Mul", z, g.const(0.5**0.5)))
        return g.op("Mul", g.op("Mul", z, g.const(0.5)), g.op("Add", erf, g.const(1)))
    if name not in _ONNX_ACTIVATIONS:
        known = sorted(["identity", "leaky_relu", "silu", "gelu", *_ONNX_ACTIVATIONS])
        raise ValueError(
            f"fastmlp's ONNX converter has no ONNX form of the {name!r} "
            f"activation; it converts {known}."
        )
    op_type, attrs = _ONNX_ACTIVATIONS[name]
    return g.op(op_type, z, **attrs)


def _network(g, est, x):
    """The output layer's activations of ``est`` for the input variable x."""
    x = g.op("Cast", x, to=g.float)
    if hasattr(est, "input_scale_"):
        x = g.op("Sub", x, g.const(est.input_offset_))
        x = g.op("Div", x, g.const(est.input_scale_))
    names = est._hidden_activations(len(est.coefs_) - 1) + [est.out_activation_]
    for W, b, name in zip(est.coefs_, est.intercepts_, names, strict=True):
        x = _activation(g, g.op("Add", g.op("MatMul", x, g.const(W)), g.const(b)), name)
    return x


def _convert(scope, operator, container):
    from skl2onnx.common.data_types import DoubleTensorType

    est = operator.raw_operator
    g = _Graph(scope, container, isinstance(operator.inputs[0].type, DoubleTensorType))
    out = _network(g, est, operator.inputs[0].full_name)
    if not hasattr(est, "classes_"):  # the regressor
        if hasattr(est, "target_scale_"):
            out = g.op("Mul", out, g.const(est.target_scale_))
            out = g.op("Add", out, g.const(est.target_offset_))
        g.op("Identity", out, out=operator.outputs[0].full_name)
        return
    label, proba = (v.full_name for v in operator.outputs[:2])
    if est.n_outputs_ == 1:  # binary: the output is the second class's probability
        out = g.op("Concat", g.op("Sub", g.const(1), out), out, axis=1)
    g.op("Identity", out, out=proba)
    if est._label_binarizer.y_type_ == "multilabel-indicator":
        is_one = g.op("Greater", out, g.const(0.5))  # LabelBinarizer's threshold
        g.op("Cast", is_one, to=g.types.INT64, out=label)
    else:
        index = g.op("ArgMax", out, axis=1, keepdims=0)
        g.op("Gather", _classes(g, scope, est), index, axis=0, out=label)


def _classes(g, scope, est):
    """A constant of the class labels as ONNX labels them: int64, or strings."""
    import numpy as np
    from skl2onnx.common.utils_classifier import get_label_classes

    classes = np.asarray(get_label_classes(scope, est))  # range(n) with nocl
    if classes.dtype == np.bool_ or np.issubdtype(classes.dtype, np.number):
        # numeric labels are integral: scikit-learn rejects continuous targets
        return g.const(classes.astype(np.int64), "INT64")
    return g.const(np.array([str(c).encode() for c in classes]), "STRING")
