"""The Index protocol, CoverTree's metric-generic API, merge_knn and self-exclusion."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_knn_exact, brute_distances
from hypothesis import given
from hypothesis import strategies as st

from sklearn_covertreex import (
    CoverTree,
    ResidualCoverTreeNeighbors,
    Runtime,
    check_invariants,
    merge_knn,
)
from sklearn_covertreex.index import Index


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_cover_tree_fit_with_ids_numbers_rows(backend):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    ids = rng.permutation(1000)[:200] + 5
    tree = CoverTree(Runtime(backend=backend)).fit(X, ids)
    check_invariants(tree)  # a CoverTree is accepted as well as TreeArrays
    assert tree.arrays.n_ids_total == ids.max() + 1
    Q = rng.normal(size=(20, 3))
    d, i = tree.knn(Q, 4)
    assert_knn_exact(X, Q, 4, d, i, ids=ids)
    bigger = tree.insert(Q)
    assert bigger.arrays.live_ids()[-20:].tolist() == list(range(ids.max() + 1, ids.max() + 21))


@pytest.mark.parametrize("bad, error", [([1, 1, 2], ValueError), ([0, -1, 2], ValueError),
                                        ([0.5, 1, 2], TypeError), ([0, 1], ValueError)])
def test_fit_rejects_bad_ids(bad, error):
    with pytest.raises(error):
        CoverTree().fit(np.zeros((3, 2)) + np.arange(3)[:, None], bad)


def test_self_queries_and_vecchia_equal_brute_force():
    rng = np.random.default_rng(1)
    X = np.round(rng.normal(size=(150, 2)), 1)  # ties and exact duplicates
    tree = CoverTree().fit(X)
    D = brute_distances(X, X)
    d, i = tree.knn_self(5)
    off = D + np.diag(np.full(150, np.inf))
    np.testing.assert_allclose(d, np.sort(off, axis=1)[:, :5], rtol=1e-12)
    assert not np.any(i == np.arange(150)[:, None])
    indptr, rd, ri = tree.radius_self(0.3)
    for q in range(150):
        got = set(ri[indptr[q]:indptr[q + 1]].tolist())
        assert got == set(np.flatnonzero(off[q] <= 0.3).tolist())
    vd, vi = tree.vecchia(3)
    for q in range(150):
        ref = np.sort(D[q, :q])[:3]
        np.testing.assert_allclose(vd[q, :ref.size], ref, rtol=1e-12)
        assert np.all(vi[q, ref.size:] == -1) and np.all(vi[q, :ref.size] < q)


def test_knn_self_after_delete_follows_live_ids():
    X = np.random.default_rng(2).normal(size=(60, 3))
    tree = CoverTree().fit(X).delete([0, 7, 30])
    live = tree.arrays.live_ids()
    d, i = tree.knn_self(3)
    assert d.shape == (57, 3)
    D = brute_distances(X[live], X[live]) + np.diag(np.full(57, np.inf))
    np.testing.assert_allclose(d, np.sort(D, axis=1)[:, :3], rtol=1e-12)
    assert set(i.ravel().tolist()) <= set(live.tolist())


@given(st.integers(1, 4), st.integers(1, 6), st.integers(0, 3))
def test_merge_knn_equals_sorting_everything(n_parts, k, seed):
    rng = np.random.default_rng(seed)
    n = 5
    ids = rng.permutation(100)
    parts, start = [], 0
    for _ in range(n_parts):
        width = int(rng.integers(0, 4))
        d = np.round(rng.random((n, width)), 1)  # ties across parts
        i = np.tile(ids[start:start + width], (n, 1))
        start += width
        parts.append((d, i))
    md, mi = merge_knn(parts, k)
    D = np.concatenate([p[0] for p in parts], axis=1)
    Ids = np.concatenate([p[1] for p in parts], axis=1)
    for r in range(n):
        pairs = sorted(zip(D[r].tolist(), Ids[r].tolist(), strict=True))[:k]
        pairs += [(np.inf, -1)] * (k - len(pairs))
        assert [(float(a), int(b)) for a, b in zip(md[r], mi[r], strict=True)] == pairs


def test_both_index_families_implement_the_protocol():
    X = np.random.default_rng(3).normal(size=(80, 2))
    assert isinstance(CoverTree().fit(X), Index)
    for algorithm in ("brute", "tree"):
        est = ResidualCoverTreeNeighbors(inducing_points=8, algorithm=algorithm,
                                         random_state=0).fit(X)
        assert isinstance(est.index_, Index)
        d, i = est.index_.knn_self(3)
        ed, ei = est.kneighbors(n_neighbors=3)
        np.testing.assert_allclose(d, ed)
        assert est.index_.insert(X[:5]).n_points == 85
    with pytest.raises(NotImplementedError):
        est.index_.delete([0])


def test_cover_tree_metric_must_have_tree_kernels():
    with pytest.raises(ValueError, match="Unknown metric"):
        CoverTree(metric="nope")
    with pytest.raises(ValueError, match="no tree kernels"):
        CoverTree(Runtime(backend="numpy"), metric="residual_correlation")
    with pytest.raises(ValueError, match="no tree kernels"):
        CoverTree(Runtime(backend="cupy"), metric="manhattan")
