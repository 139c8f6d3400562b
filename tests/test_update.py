"""Insert and delete return new valid trees and leave the old ones unchanged."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import JAX, assert_knn_exact, assert_radius_exact

from sklearn_covertreex import CoverTree, Runtime, check_invariants

BACKENDS = ["numba", "numpy", JAX]


def _snapshot(tree):
    a = tree.arrays
    return {k: np.array(getattr(a, k), copy=True) for k in
            ("points", "level", "parent", "radius", "child_ptr", "children", "id_ptr", "ids")}


def _same(tree, snap):
    return all(np.array_equal(getattr(tree.arrays, k), v) for k, v in snap.items())


@pytest.mark.parametrize("backend", BACKENDS)
def test_insert_is_persistent_and_continues_ids(backend):
    rng = np.random.default_rng(0)
    X1 = rng.normal(size=(120, 3))
    X2 = np.concatenate([rng.normal(size=(80, 3)) * 10, X1[:5]])  # far points and duplicates
    rt = Runtime(backend=backend)
    t1 = CoverTree(rt).fit(X1)
    snap = _snapshot(t1)
    t2 = t1.insert(X2)
    assert _same(t1, snap)
    check_invariants(t1.arrays)
    check_invariants(t2.arrays)
    assert t2.n_points == 205 and t1.n_points == 120
    X = np.concatenate([X1, X2])
    Q = rng.normal(size=(15, 3)) * 5
    d, i = t2.knn(Q, 6)
    assert_knn_exact(X, Q, 6, d, i)
    d1, i1 = t1.knn(Q, 6)
    assert_knn_exact(X1, Q, 6, d1, i1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_delete_is_persistent_and_never_returns_deleted(backend):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    X[100:110] = X[0]  # a node with many duplicate ids
    rt = Runtime(backend=backend)
    t = CoverTree(rt).fit(X)
    snap = _snapshot(t)
    gone = np.concatenate([[0, 100, 101], rng.choice(np.arange(110, 300), 90, replace=False)])
    t2 = t.delete(gone)
    assert _same(t, snap)
    check_invariants(t2.arrays)
    keep = np.setdiff1d(np.arange(300), gone)
    assert np.array_equal(np.sort(t2.arrays.ids), keep)
    Q = rng.normal(size=(20, 3))
    d, i = t2.knn(Q, 8)
    assert not np.isin(i, gone).any()
    assert_knn_exact(X[keep], Q, 8, d, i, ids=keep)
    indptr, rd, ri = t2.radius(Q, 0.6)
    assert_radius_exact(X[keep], Q, 0.6, indptr, rd, ri, ids=keep)


@pytest.mark.parametrize("backend", BACKENDS)
def test_delete_root_and_most_points(backend):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 2))
    t = CoverTree(Runtime(backend=backend)).fit(X)
    root_ids = t.arrays.ids[t.arrays.id_ptr[t.arrays.root]:t.arrays.id_ptr[t.arrays.root + 1]]
    t2 = t.delete(root_ids)
    check_invariants(t2.arrays)
    keep = np.setdiff1d(np.arange(200), root_ids)
    d, i = t2.knn(X[:10], 3)
    assert_knn_exact(X[keep], X[:10], 3, d, i, ids=keep)
    t3 = t2.delete(keep[:-3])
    check_invariants(t3.arrays)
    assert sorted(t3.arrays.ids.tolist()) == sorted(keep[-3:].tolist())
    t4 = t3.delete(keep[-3:])
    assert t4.n_points == 0
    check_invariants(t4.arrays)
    with pytest.raises(ValueError, match="empty"):
        t4.knn(X[:1], 1)
    t5 = t4.insert(X[:4])
    check_invariants(t5.arrays)
    assert sorted(t5.arrays.ids.tolist()) == [200, 201, 202, 203]


def test_repeated_insert_delete_cycles():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(100, 4))
    t = CoverTree().fit(X)
    all_X = [X]
    live = set(range(100))
    for step in range(6):
        new = rng.normal(size=(50, 4)) * (1 + step)
        t = t.insert(new)
        all_X.append(new)
        live |= set(range(t.arrays.n_ids_total - 50, t.arrays.n_ids_total))
        drop = rng.choice(sorted(live), 40, replace=False)
        t = t.delete(drop)
        live -= set(drop.tolist())
        check_invariants(t.arrays)
    Xall = np.concatenate(all_X)
    keep = np.array(sorted(live))
    Q = rng.normal(size=(10, 4))
    d, i = t.knn(Q, 5)
    assert_knn_exact(Xall[keep], Q, 5, d, i, ids=keep)


def test_delete_rejects_bad_ids_and_leaves_tree():
    t = CoverTree().fit(np.random.default_rng(4).normal(size=(30, 2)))
    snap = _snapshot(t)
    with pytest.raises(ValueError, match="not in the tree"):
        t.delete([3, 99])
    with pytest.raises(ValueError, match="repeat"):
        t.delete([3, 3])
    with pytest.raises(TypeError, match="integers"):
        t.delete([1.5])
    assert _same(t, snap)
    t2 = t.delete([3])
    with pytest.raises(ValueError, match="not in the tree"):
        t2.delete([3])
    assert t.delete([]) is t


@pytest.mark.parametrize("backend", [JAX])
def test_delete_on_another_backend_builds_numbas_tree(backend):
    """Deletes re-attach orphans through find_parents: the same tree on every backend."""
    X = np.round(np.random.default_rng(5).normal(size=(400, 3)), 1)  # ties and duplicates
    drop = np.arange(0, 400, 3)
    trees = [CoverTree(Runtime(backend=b, construction="batch")).fit(X).delete(drop)
             for b in ("numba", backend)]
    check_invariants(trees[1])
    for f in ("points", "level", "parent", "radius", "children", "ids"):
        np.testing.assert_array_equal(getattr(trees[0].arrays, f), getattr(trees[1].arrays, f))
