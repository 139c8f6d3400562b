"""Classifier and regressor: kneighbors, kneighbors_graph and multi-output y, as scikit-learn's.

Every answer is compared with :class:`sklearn.neighbors.KNeighborsClassifier`
/ :class:`~sklearn.neighbors.KNeighborsRegressor` (brute force) on
continuous data, where distances have no ties.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import DataConversionWarning
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.utils import get_tags

from sklearn_covertreex import (
    CoverTreeKNeighborsClassifier,
    CoverTreeKNeighborsRegressor,
    CoverTreeKNeighborsTransformer,
)

WEIGHTS = ["uniform", "distance", lambda d: np.exp(-d)]
WEIGHT_IDS = ["uniform", "distance", "callable"]

rng = np.random.default_rng(7)
X = rng.normal(size=(300, 4))
Q = rng.normal(size=(40, 4))
LABELS = np.stack([rng.integers(0, 3, 300), rng.integers(0, 2, 300)], axis=1)
STRINGS = np.array(["ant", "bee", "cat"], dtype=object)[LABELS[:, 0]]
TARGETS = np.stack([X[:, 0] + rng.normal(size=300), X[:, 1] * X[:, 2]], axis=1)


def _assert_same_classes(ours, ref):
    if isinstance(ref, list):
        assert isinstance(ours, list) and len(ours) == len(ref)
        for a, b in zip(ours, ref, strict=True):
            np.testing.assert_array_equal(a, b)
    else:
        assert isinstance(ours, np.ndarray)
        np.testing.assert_array_equal(ours, ref)


def _assert_same_proba(ours, ref):
    if isinstance(ref, list):
        assert isinstance(ours, list) and len(ours) == len(ref)
        for a, b in zip(ours, ref, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------- kneighbors
@pytest.mark.parametrize("ours, ref, y", [
    (CoverTreeKNeighborsClassifier(6), KNeighborsClassifier(6, algorithm="brute"), LABELS[:, 0]),
    (CoverTreeKNeighborsRegressor(6), KNeighborsRegressor(6, algorithm="brute"), TARGETS[:, 0]),
    (CoverTreeKNeighborsTransformer(n_neighbors=6), KNeighborsClassifier(6, algorithm="brute"),
     LABELS[:, 0]),
], ids=["classifier", "regressor", "transformer"])
def test_kneighbors_and_graph_match_sklearn(ours, ref, y):
    ours.fit(X, y)
    ref.fit(X, y)
    for query in (Q, None):
        d, i = ours.kneighbors(query)
        rd, ri = ref.kneighbors(query)
        np.testing.assert_allclose(d, rd, rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(i, ri)
        assert d.dtype == np.float64 and i.dtype == np.intp
        np.testing.assert_array_equal(ours.kneighbors(query, 3, return_distance=False),
                                      ref.kneighbors(query, 3, return_distance=False))
        for mode in ("connectivity", "distance"):
            G = ours.kneighbors_graph(query, mode=mode)
            R = ref.kneighbors_graph(query, mode=mode)
            assert isinstance(G, sp.csr_matrix) and G.shape == R.shape
            np.testing.assert_array_equal(G.indptr, R.indptr)
            np.testing.assert_array_equal(G.indices, R.indices)
            np.testing.assert_allclose(G.data, R.data, rtol=1e-10, atol=1e-12)
        G = ours.kneighbors_graph(query, n_neighbors=2)
        np.testing.assert_array_equal(G.indices, ref.kneighbors_graph(query, 2).indices)
    # X=None never returns the point itself
    assert not np.any(ours.kneighbors(return_distance=False) == np.arange(300)[:, None])


def test_kneighbors_errors_name_the_wrapper():
    clf = CoverTreeKNeighborsClassifier(3).fit(X[:10], LABELS[:10, 0])
    with pytest.raises(ValueError, match="Expected n_neighbors > 0. Got 0"):
        clf.kneighbors(Q, 0)
    with pytest.raises(TypeError, match="integer"):
        clf.kneighbors(Q, 2.0)
    with pytest.raises(ValueError, match="Expected n_neighbors < n_samples_fit"):
        clf.kneighbors(None, 10)
    with pytest.raises(ValueError, match="Expected n_neighbors <= n_samples_fit"):
        clf.kneighbors(Q, 11)
    assert clf.kneighbors(Q, 10)[0].shape == (40, 10)
    with pytest.raises(ValueError, match="X has 3 features, but CoverTreeKNeighborsClassifier "
                                         "is expecting 4"):
        clf.kneighbors(Q[:, :3])
    with pytest.raises(ValueError, match="Unsupported mode"):
        clf.kneighbors_graph(Q, mode="weird")
    reg = CoverTreeKNeighborsRegressor(3)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        reg.kneighbors(Q)
    with pytest.raises(NotFittedError):
        reg.kneighbors_graph(Q)


@pytest.mark.parametrize("est", [CoverTreeKNeighborsClassifier(4),
                                 CoverTreeKNeighborsRegressor(4)], ids=["classifier", "regressor"])
def test_kneighbors_checks_the_wrappers_feature_names(est):
    pd = pytest.importorskip("pandas")
    cols = ["a", "b", "c", "d"]
    est.fit(pd.DataFrame(X, columns=cols), LABELS[:, 0])
    assert list(est.feature_names_in_) == cols
    frame = pd.DataFrame(Q, columns=cols)
    np.testing.assert_array_equal(est.kneighbors(frame)[1],
                                  CoverTreeKNeighborsClassifier(4).fit(X, LABELS[:, 0])
                                  .kneighbors(Q)[1])
    with pytest.raises(ValueError, match="feature names should match"):
        est.kneighbors(pd.DataFrame(Q, columns=cols[::-1]))
    with pytest.raises(ValueError, match="feature names should match"):
        est.kneighbors_graph(pd.DataFrame(Q, columns=["w", "x", "y", "z"]))
    with pytest.warns(UserWarning, match="feature names"):
        est.kneighbors(Q)


# --------------------------------------------------------- multi-output
@pytest.mark.parametrize("weights", WEIGHTS, ids=WEIGHT_IDS)
@pytest.mark.parametrize("labels", ["ints", "strings"])
def test_classifier_multi_output_matches_sklearn(weights, labels):
    y = LABELS if labels == "ints" else np.stack([STRINGS, np.array(["x", "yz"])[LABELS[:, 1]]],
                                                 axis=1)
    ours = CoverTreeKNeighborsClassifier(5, weights=weights).fit(X, y)
    ref = KNeighborsClassifier(5, weights=weights, algorithm="brute").fit(X, y)
    assert ours.outputs_2d_ is True and ref.outputs_2d_
    _assert_same_classes(ours.classes_, ref.classes_)
    for query in (Q, None):
        pred = ours.predict(query)
        assert pred.shape == (Q.shape[0] if query is not None else 300, 2)
        np.testing.assert_array_equal(pred, ref.predict(query))
        _assert_same_proba(ours.predict_proba(query), ref.predict_proba(query))


@pytest.mark.parametrize("weights", WEIGHTS, ids=WEIGHT_IDS)
def test_classifier_column_vector_is_raveled_like_sklearn(weights):
    y = STRINGS[:, None]
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        ours = CoverTreeKNeighborsClassifier(5, weights=weights).fit(X, y)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        ref = KNeighborsClassifier(5, weights=weights, algorithm="brute").fit(X, y)
    assert ours.outputs_2d_ is False and not ref.outputs_2d_
    _assert_same_classes(ours.classes_, ref.classes_)
    pred = ours.predict(Q)
    assert pred.shape == (40,)
    np.testing.assert_array_equal(pred, ref.predict(Q))
    _assert_same_proba(ours.predict_proba(Q), ref.predict_proba(Q))
    assert ours.score(Q, ref.predict(Q)) == 1.0


@pytest.mark.parametrize("weights", WEIGHTS, ids=WEIGHT_IDS)
def test_classifier_one_d_and_x_none_match_sklearn(weights):
    y = STRINGS
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataConversionWarning)
        ours = CoverTreeKNeighborsClassifier(5, weights=weights).fit(X, y)
    ref = KNeighborsClassifier(5, weights=weights, algorithm="brute").fit(X, y)
    assert ours.outputs_2d_ is False
    for query in (Q, None):
        np.testing.assert_array_equal(ours.predict(query), ref.predict(query))
        _assert_same_proba(ours.predict_proba(query), ref.predict_proba(query))


@pytest.mark.parametrize("weights", WEIGHTS, ids=WEIGHT_IDS)
@pytest.mark.parametrize("shape", ["2d", "column"])
def test_regressor_multi_output_matches_sklearn(weights, shape):
    y = TARGETS if shape == "2d" else TARGETS[:, :1]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataConversionWarning)  # scikit-learn does not warn
        ours = CoverTreeKNeighborsRegressor(5, weights=weights).fit(X, y)
    ref = KNeighborsRegressor(5, weights=weights, algorithm="brute").fit(X, y)
    for query in (Q, None):
        pred = ours.predict(query)
        expected = ref.predict(query)
        assert pred.shape == expected.shape == (expected.shape[0], y.shape[1])
        np.testing.assert_allclose(pred, expected, rtol=1e-10, atol=1e-12)
    assert ours.score(Q, ref.predict(Q)) == pytest.approx(1.0)


def test_multi_output_tags():
    clf = get_tags(CoverTreeKNeighborsClassifier())
    assert clf.target_tags.multi_output and clf.classifier_tags.multi_label
    assert get_tags(CoverTreeKNeighborsRegressor()).target_tags.multi_output


# ----------------------------------------------------------- partial_fit
def test_classifier_partial_fit_multi_output():
    ref = KNeighborsClassifier(4, algorithm="brute").fit(X, LABELS)
    clf = CoverTreeKNeighborsClassifier(4)
    clf.partial_fit(X[:50], LABELS[:50], classes=[[0, 1, 2], [0, 1]])
    clf.partial_fit(X[50:], LABELS[50:])
    assert clf.n_samples_fit_ == 300 and clf.outputs_2d_
    _assert_same_classes(clf.classes_, ref.classes_)
    np.testing.assert_array_equal(clf.predict(Q), ref.predict(Q))
    _assert_same_proba(clf.predict_proba(Q), ref.predict_proba(Q))
    # without classes=, the first call's labels are every label
    first = CoverTreeKNeighborsClassifier(4).partial_fit(X, LABELS)
    np.testing.assert_array_equal(first.predict(Q), ref.predict(Q))


def test_classifier_partial_fit_multi_output_errors_keep_state():
    clf = CoverTreeKNeighborsClassifier(3).partial_fit(X[:30], LABELS[:30])
    before = clf.predict(Q), clf.n_samples_fit_
    for y, match in ((LABELS[30:40, 0], "1 output"),
                     (np.c_[LABELS[30:40], LABELS[30:40, :1]], "3 output"),
                     (LABELS[30:40] + 5, "not in classes")):
        with pytest.raises(ValueError, match=match):
            clf.partial_fit(X[30:40], y)
        np.testing.assert_array_equal(clf.predict(Q), before[0])
        assert clf.n_samples_fit_ == before[1]
    with pytest.raises(ValueError, match="not the same"):
        clf.partial_fit(X[30:40], LABELS[30:40], classes=[[0, 1, 2], [0, 1, 2]])
    for classes in ([[0, 1, 2]], [0, 1]):
        with pytest.raises(ValueError, match="one array of labels per output"):
            CoverTreeKNeighborsClassifier(3).partial_fit(X[:30], LABELS[:30], classes=classes)
    one_d = CoverTreeKNeighborsClassifier(3).partial_fit(X[:30], LABELS[:30, 0])
    with pytest.raises(ValueError, match="2 output"):
        one_d.partial_fit(X[30:40], LABELS[30:40])
    with pytest.warns(DataConversionWarning):
        one_d.partial_fit(X[30:40], LABELS[30:40, :1])  # a column vector is 1-D here too
    assert one_d.n_samples_fit_ == 40 and not one_d.outputs_2d_


def test_regressor_partial_fit_multi_output():
    for y in (TARGETS, TARGETS[:, :1]):
        ref = KNeighborsRegressor(4, weights="distance", algorithm="brute").fit(X, y)
        reg = CoverTreeKNeighborsRegressor(4, weights="distance").partial_fit(X[:80], y[:80])
        reg.partial_fit(X[80:], y[80:])
        np.testing.assert_allclose(reg.predict(Q), ref.predict(Q), rtol=1e-10, atol=1e-12)
    reg = CoverTreeKNeighborsRegressor(4).fit(X[:80], TARGETS[:80])
    before = reg.predict(Q)
    for y, match in ((TARGETS[80:90, 0], "1-D targets"),
                     (TARGETS[80:90, :1], "1 target column")):
        with pytest.raises(ValueError, match=match):
            reg.partial_fit(X[80:90], y)
        np.testing.assert_array_equal(reg.predict(Q), before)
        assert reg.n_samples_fit_ == 80
    flat = CoverTreeKNeighborsRegressor(4).fit(X[:80], TARGETS[:80, 0])
    with pytest.raises(ValueError, match="2 target column"):
        flat.partial_fit(X[80:90], TARGETS[80:90])


def test_sparse_y_is_rejected():
    with pytest.raises(TypeError, match="sparse y"):
        CoverTreeKNeighborsClassifier().fit(X, sp.csr_matrix(LABELS))
    with pytest.raises(TypeError, match="sparse y"):
        CoverTreeKNeighborsRegressor().fit(X, sp.csr_matrix(TARGETS))
