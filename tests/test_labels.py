"""fastmlp's label binarization against scikit-learn's LabelBinarizer."""

import re

import numpy as np
import pytest
from sklearn.preprocessing import LabelBinarizer

from fastmlp._labels import _fast_classes, binarize_labels, transform_labels

rng = np.random.default_rng(0)

LABELS = {
    "int64 multiclass": rng.integers(0, 5, 50),
    "int8 negative": rng.integers(-3, 3, 40).astype(np.int8),
    "uint8 binary": rng.integers(0, 2, 30).astype(np.uint8),
    "binary 3/7": np.where(rng.random(30) < 0.5, 3, 7),
    "one class": np.full(12, 4),
    "bool": rng.random(20) < 0.5,
    "integral float": rng.integers(0, 4, 25).astype(np.float64),
    "integral float32 binary": rng.integers(0, 2, 25).astype(np.float32),
    "non-integral float": rng.random(10),
    "strings": np.array(["b", "a", "c", "a"] * 5),
    "objects": np.array(["x", "y", "x"] * 4, dtype=object),
    "multilabel": rng.integers(0, 2, (20, 3)),
}


@pytest.mark.parametrize("name", list(LABELS))
def test_binarize_labels_matches_label_binarizer(name):
    y = LABELS[name]
    try:
        expected = LabelBinarizer().fit(y)
    except ValueError as exc:
        with pytest.raises(ValueError, match=re.escape(str(exc)[:30])):
            binarize_labels(y)
        return
    binarizer, Y = binarize_labels(y)
    assert binarizer.y_type_ == expected.y_type_
    assert binarizer.sparse_input_ == expected.sparse_input_
    assert binarizer.classes_.dtype == expected.classes_.dtype
    np.testing.assert_array_equal(binarizer.classes_, expected.classes_)
    assert Y.dtype == bool
    np.testing.assert_array_equal(Y, expected.transform(y).astype(bool))
    # The fitted attributes behave as LabelBinarizer's: the same decoding.
    scores = rng.random(Y.shape)
    np.testing.assert_array_equal(
        binarizer.inverse_transform(scores), expected.inverse_transform(scores)
    )


def test_fast_path_taken_for_numeric_labels():
    """The cases the fast path is for really take it (else this tests nothing)."""
    for name in ("int64 multiclass", "uint8 binary", "one class", "integral float"):
        assert _fast_classes(LABELS[name]) is not None
    for name in ("non-integral float", "strings", "objects", "multilabel"):
        assert _fast_classes(LABELS[name]) is None


@pytest.mark.parametrize(
    "classes, y",
    [
        ([0, 1, 2], [0, 1, 1, 0]),  # partial_fit: fewer labels than classes
        ([0, 1, 2], [2, 2]),
        ([3, 5], [5, 5, 3]),
        ([3, 5], [5, 5, 5]),
        ([4], [4, 4]),
        ([0, 1, 2], [0, 1, 7]),  # an unseen label: LabelBinarizer's own answer
        ([0, 1], [0, 1, 2]),
    ],
)
def test_transform_labels_matches_transform(classes, y):
    binarizer = LabelBinarizer().fit(np.array(classes))
    y = np.array(y)
    try:
        expected = binarizer.transform(y).astype(bool)
    except ValueError as exc:
        with pytest.raises(ValueError, match=re.escape(str(exc)[:30])):
            transform_labels(binarizer, y)
        return
    np.testing.assert_array_equal(transform_labels(binarizer, y), expected)
