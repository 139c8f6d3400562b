"""Estimators pickled by release 0.1.0.dev0 still load and give the same answers.

``tests/data/estimators_0.1.0.dev0.pkl`` was written by
``tests/data/make_pickles_0.1.0.dev0.py`` at commit 5d6dc29 (before the
engines left ``algo/`` and ``metrics/``); class paths that moved keep import
aliases so these pickles stay loadable.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data" / "estimators_0.1.0.dev0.pkl"
rng = np.random.default_rng(0)
X = rng.normal(size=(80, 3))
Q = rng.normal(size=(7, 3))


@pytest.fixture(scope="module")
def stored():
    with open(DATA, "rb") as f:
        return pickle.load(f)


def _same(a, b):
    if isinstance(a, tuple):
        assert len(a) == len(b)
        for u, v in zip(a, b, strict=False):
            _same(u, v)
    else:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_neighbors(stored):
    nn, q, self_q = stored["neighbors"]
    _same(nn.kneighbors(Q), q)
    _same(nn.kneighbors(), self_q)
    nn.partial_fit(Q)
    assert nn.n_samples_fit_ == 87


def test_wrappers(stored):
    clf, proba = stored["classifier"]
    _same(clf.predict_proba(Q), proba)
    reg, pred = stored["regressor"]
    _same(reg.predict(Q), pred)
    tr, graph = stored["transformer"]
    _same(tr.transform(Q).toarray(), graph)


@pytest.mark.parametrize("algorithm", ["brute", "tree"])
def test_residual(stored, algorithm):
    est, q, self_q, vecchia = stored["residual_" + algorithm]
    d, i = est.kneighbors(Q)
    np.testing.assert_allclose(d, q[0], rtol=1e-12, atol=1e-12)
    _same(i, q[1])
    d, i = est.kneighbors()
    np.testing.assert_allclose(d, self_q[0], rtol=1e-12, atol=1e-12)
    _same(i, self_q[1])
    d, i = est.vecchia_neighbors(return_distance=True)
    np.testing.assert_allclose(d, vecchia[0], rtol=1e-12, atol=1e-12)
    _same(i, vecchia[1])
    est.partial_fit(Q)
    assert est.n_samples_fit_ == 87


def test_cover_tree(stored):
    tree, answer = stored["cover_tree"]
    _same(tree.knn(Q, 5), answer)
