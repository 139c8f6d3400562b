"""A fit or partial_fit that fails leaves the previous fitted state exactly as it was.

For every estimator: fit, record its answers and fitted attributes, then
refit in a way that fails (a bad parameter; bad data: NaN, wrong dtype,
wrong width, sparse, too few samples, bad targets; a ``MemoryError`` or a
``KeyboardInterrupt`` raised inside the build step) and check the estimator
still gives the same answers, with the same ``n_features_in_``,
``feature_names_in_``, ``n_samples_fit_`` and ``classes_``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

import sklearn_covertreex.estimators.residual as residual_module
from sklearn_covertreex import (
    CoverTreeKNeighborsClassifier,
    CoverTreeKNeighborsRegressor,
    CoverTreeKNeighborsTransformer,
    CoverTreeNeighbors,
    ResidualCoverTreeNeighbors,
)
from sklearn_covertreex.api import CoverTree
from sklearn_covertreex.engines.residual import ResidualIndex

rng = np.random.default_rng(3)
X = rng.normal(size=(120, 2))
Q = rng.normal(size=(15, 2))
X2 = rng.normal(size=(150, 2)) + 3.0
Y_CLASS = rng.integers(0, 3, 120)
Y2_CLASS = np.array(["a", "b"])[rng.integers(0, 2, 150)]
Y_REG = X[:, 0] ** 2 + rng.normal(size=120)
Y2_REG = rng.normal(size=150)


@dataclass
class Case:
    make: Callable[[], Any]
    y: Any
    y2: Any
    answers: Callable[[Any], tuple]
    bad_params: list[dict[str, Any]]
    build: tuple[Any, str]  # (owner, attribute) of the fit's build step
    grow: tuple[Any, str]  # the same for partial_fit


EUCLIDEAN_BAD = [{"n_jobs": 0}, {"n_neighbors": 0}, {"traversal": "nope"},
                 {"random_state": "seed"}]

CASES = {
    "neighbors": Case(
        make=lambda: CoverTreeNeighbors(n_neighbors=3, radius=0.8, random_state=0),
        y=None, y2=None,
        answers=lambda e: (*e.kneighbors(Q), *e.kneighbors(),
                           e.radius_neighbors_graph(Q, mode="distance").toarray()),
        bad_params=[*EUCLIDEAN_BAD, {"radius": -1.0}, {"verbose": "loud"}],
        build=(CoverTree, "fit"), grow=(CoverTree, "insert"),
    ),
    "classifier": Case(
        make=lambda: CoverTreeKNeighborsClassifier(n_neighbors=1, random_state=0),
        y=Y_CLASS, y2=Y2_CLASS,
        answers=lambda e: (e.predict(Q), e.predict_proba(Q), *e.kneighbors(Q)),
        bad_params=[*EUCLIDEAN_BAD, {"weights": "closest"}],
        build=(CoverTree, "fit"), grow=(CoverTree, "insert"),
    ),
    "regressor": Case(
        make=lambda: CoverTreeKNeighborsRegressor(n_neighbors=4, weights="distance"),
        y=Y_REG, y2=Y2_REG,
        answers=lambda e: (e.predict(Q), *e.kneighbors()),
        bad_params=[*EUCLIDEAN_BAD, {"weights": "closest"}],
        build=(CoverTree, "fit"), grow=(CoverTree, "insert"),
    ),
    "transformer": Case(
        make=lambda: CoverTreeKNeighborsTransformer(n_neighbors=3),
        y=None, y2=None,
        answers=lambda e: (e.transform(Q).toarray(),),
        bad_params=[*EUCLIDEAN_BAD, {"mode": "weights"}],
        build=(CoverTree, "fit"), grow=(CoverTree, "insert"),
    ),
    "residual": Case(
        make=lambda: ResidualCoverTreeNeighbors(n_neighbors=3, inducing_points=X[:8],
                                                random_state=0),
        y=None, y2=None,
        answers=lambda e: (*e.kneighbors(Q), e.vecchia_neighbors()),
        bad_params=[{"n_jobs": 0}, {"n_neighbors": 0}, {"jitter": -1.0},
                    {"algorithm": "ball_tree"}, {"conflict_graph": "grid"},
                    {"inducing_points": 0}, {"kernel": "rbf"}],
        build=(residual_module, "build_index"), grow=(ResidualIndex, "insert"),
    ),
}


def _fit_args(case: Case, X_, y_):
    return (X_,) if case.y is None else (X_, y_)


def _snapshot(est, case: Case) -> dict[str, Any]:
    state = {name: getattr(est, name) for name in
             ("n_features_in_", "n_samples_fit_", "classes_", "feature_names_in_")
             if hasattr(est, name)}
    state["answers"] = case.answers(est)
    return state


def _assert_same(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b)
        for u, v in zip(a, b, strict=True):
            _assert_same(u, v)
    else:
        np.testing.assert_array_equal(a, b)
        assert np.asarray(a).dtype == np.asarray(b).dtype


def _fitted(name):
    case = CASES[name]
    est = case.make().fit(*_fit_args(case, X, case.y))
    return case, est, _snapshot(est, case)


def _bad_data(case: Case):
    """(X, y) pairs whose fit must fail, with the exception type."""
    y2 = case.y2
    nan = X2.copy()
    nan[3, 1] = np.nan
    items = [
        (nan, y2, ValueError),
        (np.where(np.isnan(nan), np.inf, X2), y2, ValueError),
        (X2 + 1j, y2, ValueError),                       # complex dtype
        (np.full((150, 2), "a", dtype=object), y2, ValueError),
        (np.array([[{"a": 1}, 2.0]] * 150, dtype=object), y2, TypeError),
        (sp.csr_matrix(X2), y2, TypeError),
        (X2[:, 0], y2, ValueError),                      # 1-D
        (X2[:0], None if y2 is None else y2[:0], ValueError),  # no sample
        (np.zeros((150, 0)), y2, ValueError),            # no feature
    ]
    if case.y is not None:
        items.append((X2, y2[:10], ValueError))          # y of the wrong length
        items.append((X2, np.full(150, np.nan), ValueError))
    if isinstance(case.y2, np.ndarray) and case.y2.dtype.kind == "U":
        items.append((X2, rng.normal(size=150), ValueError))  # continuous labels
    return items


@pytest.mark.parametrize("name", CASES)
def test_failed_refit_with_bad_parameter_keeps_state(name):
    case, est, before = _fitted(name)
    good = est.get_params()
    for bad in case.bad_params:
        est.set_params(**bad)
        with pytest.raises((ValueError, TypeError), match=next(iter(bad))):
            est.fit(*_fit_args(case, X2, case.y2))
        est.set_params(**{k: good[k] for k in bad})
        _assert_same(_snapshot(est, case), before)


@pytest.mark.parametrize("name", CASES)
def test_failed_refit_with_bad_data_keeps_state(name):
    case, est, before = _fitted(name)
    for X_bad, y_bad, error in _bad_data(case):
        with pytest.raises(error):
            est.fit(*_fit_args(case, X_bad, y_bad))
        _assert_same(_snapshot(est, case), before)


@pytest.mark.parametrize("error", [MemoryError, KeyboardInterrupt])
@pytest.mark.parametrize("name", CASES)
def test_refit_interrupted_in_the_build_keeps_state(name, error, monkeypatch):
    case, est, before = _fitted(name)

    def boom(*args, **kwargs):
        raise error("injected")

    monkeypatch.setattr(*case.build, boom)
    # another width too: validation of the new X must not leak n_features_in_
    X3 = np.c_[X2, X2[:, :1]]
    for X_new in (X2, X3):
        if name == "residual" and X_new is X3:
            est.set_params(inducing_points=X3[:8])
        with pytest.raises(error, match="injected"):
            est.fit(*_fit_args(case, X_new, case.y2))
        if name == "residual":
            est.set_params(inducing_points=X[:8])
        _assert_same(_snapshot(est, case), before)
    monkeypatch.undo()
    est.fit(*_fit_args(case, X2, case.y2))  # a later fit works and replaces everything
    assert est.n_samples_fit_ == 150


@pytest.mark.parametrize("name", CASES)
def test_failed_partial_fit_keeps_state(name, monkeypatch):
    if not hasattr(CASES[name].make(), "partial_fit"):
        pytest.skip("no partial_fit (the transformer's output width is n_samples_fit_)")
    case, est, before = _fitted(name)
    y_part = None if case.y is None else case.y[:5]
    nan = X[:5].copy()
    nan[0, 0] = np.nan
    for X_bad, error in ((nan, ValueError), (np.c_[X[:5], X[:5]], ValueError),
                         (sp.csr_matrix(X[:5]), TypeError), (X[:5, 0], ValueError)):
        with pytest.raises(error):
            est.partial_fit(*_fit_args(case, X_bad, y_part))
        _assert_same(_snapshot(est, case), before)
    est.set_params(n_jobs=0)
    with pytest.raises(ValueError, match="n_jobs"):
        est.partial_fit(*_fit_args(case, X[:5], y_part))
    est.set_params(n_jobs=None)
    _assert_same(_snapshot(est, case), before)
    for error in (MemoryError, KeyboardInterrupt):
        def boom(*args, error=error, **kwargs):
            raise error("injected")

        monkeypatch.setattr(*case.grow, boom)
        with pytest.raises(error, match="injected"):
            est.partial_fit(*_fit_args(case, X[:5], y_part))
        monkeypatch.undo()
        _assert_same(_snapshot(est, case), before)
    est.partial_fit(*_fit_args(case, X[:5], y_part))
    assert est.n_samples_fit_ == 125


def test_classifier_refit_on_other_labels_that_fails_keeps_the_old_labels():
    """The reported case: a failed refit must not leave X2's labels on X's tree."""
    clf = CoverTreeKNeighborsClassifier(n_neighbors=1).fit(X, Y_CLASS)
    pred = clf.predict(Q)
    clf.set_params(n_jobs=0)
    with pytest.raises(ValueError, match="n_jobs"):
        clf.fit(X2, Y2_CLASS)
    clf.set_params(n_jobs=None)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    np.testing.assert_array_equal(clf.predict(Q), pred)
    np.testing.assert_array_equal(clf.predict(X), Y_CLASS)  # 1-NN of a training point: itself


def test_residual_refit_on_other_width_that_fails_keeps_n_features_in():
    """The reported case: a failed 3-column refit must not break the 2-column index."""
    est = ResidualCoverTreeNeighbors(inducing_points=X[:8]).fit(X)
    ref = est.kneighbors(Q)
    with pytest.raises(ValueError, match="inducing_points must have shape"):
        est.fit(np.c_[X, X[:, :1]])
    assert est.n_features_in_ == 2
    _assert_same(est.kneighbors(Q), ref)


def test_failed_refit_keeps_feature_names():
    pd = pytest.importorskip("pandas")
    cols = ["u", "v"]
    nan = X2.copy()
    nan[0, 0] = np.nan
    for name, case in CASES.items():
        est = case.make().fit(*_fit_args(case, pd.DataFrame(X, columns=cols), case.y))
        expected = est.kneighbors(pd.DataFrame(Q, columns=cols))
        for X_bad in (pd.DataFrame(nan, columns=["p", "q"]), nan):
            with pytest.raises(ValueError):
                est.fit(*_fit_args(case, X_bad, case.y2))
            assert list(est.feature_names_in_) == cols, name
            assert est.n_samples_fit_ == 120
        _assert_same(est.kneighbors(pd.DataFrame(Q, columns=cols)), expected)
        with pytest.raises(ValueError, match="feature names should match"):
            est.kneighbors(pd.DataFrame(Q, columns=["p", "q"]))
    # a successful refit on an array drops the old names
    est = CoverTreeNeighbors().fit(pd.DataFrame(X, columns=cols)).fit(X)
    assert not hasattr(est, "feature_names_in_")
