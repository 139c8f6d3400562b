"""Bad input gets a clear error and leaves the tree untouched."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_covertreex import CoverTree

GOOD = np.random.default_rng(0).normal(size=(20, 3))


@pytest.mark.parametrize(
    "X, exc, match",
    [
        (np.array([[1.0, np.nan, 2.0]]), ValueError, "NaN"),
        (np.array([[1.0, np.inf, 2.0]]), ValueError, "infinity"),
        (np.array([1.0, 2.0, 3.0]), ValueError, "2-D"),
        (np.zeros((2, 2, 2)), ValueError, "2-D"),
        (np.zeros((0, 3)), ValueError, "0 samples"),
        (np.zeros((3, 0)), ValueError, "0 features"),
        (np.array([["a", "b", "c"]]), TypeError, "real numbers"),
        (np.array([[1 + 2j, 0, 0]]), ValueError, "complex"),
        (sp.csr_matrix(np.eye(3)), TypeError, "sparse"),
        (np.array([[{"a": 1}, 2.0, 3.0]], dtype=object), TypeError, "real numbers"),
    ],
)
def test_fit_rejects_bad_input(X, exc, match):
    with pytest.raises(exc, match=match):
        CoverTree().fit(X)


def test_object_array_of_floats_and_ints_work():
    t = CoverTree().fit(GOOD.astype(object))
    assert t.n_points == 20
    t2 = CoverTree().fit(np.arange(12).reshape(4, 3))
    assert t2.knn([[0, 1, 2]], 1)[1].tolist() == [[0]]


def test_queries_and_updates_reject_bad_input_and_keep_tree():
    t = CoverTree().fit(GOOD)
    before = t.knn(GOOD[:3], 2)
    with pytest.raises(ValueError, match="features"):
        t.knn(np.zeros((1, 4)), 1)
    with pytest.raises(ValueError, match="features"):
        t.insert(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="NaN"):
        t.insert(np.array([[np.nan, 0, 0]]))
    with pytest.raises(ValueError, match="k must be > 0"):
        t.knn(GOOD[:1], 0)
    with pytest.raises(TypeError, match="k must be an integer"):
        t.knn(GOOD[:1], 2.5)
    with pytest.raises(ValueError, match="radius"):
        t.radius(GOOD[:1], -1.0)
    with pytest.raises(ValueError, match="radius"):
        t.radius(GOOD[:1], np.nan)
    after = t.knn(GOOD[:3], 2)
    np.testing.assert_array_equal(before[1], after[1])
    assert t.n_points == 20


def test_empty_query_batch():
    t = CoverTree().fit(GOOD)
    d, i = t.knn(np.zeros((0, 3)), 2)
    assert d.shape == (0, 2) and i.shape == (0, 2)
    indptr, rd, ri = t.radius(np.zeros((0, 3)), 1.0)
    assert indptr.tolist() == [0] and rd.size == 0


def test_unfitted_tree_query_is_clear():
    with pytest.raises(ValueError, match="empty"):
        CoverTree().knn(GOOD[:1], 1)
