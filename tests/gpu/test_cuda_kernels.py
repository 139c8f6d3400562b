"""The cupy backend's CUDA tree kernels: the same answers as numba's, and exact trees.

Runs wherever numba's CUDA target has a device: on an NVIDIA GPU, or on the
CPU under numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, which
``tests/test_cuda_simulator.py`` sets in a subprocess for CI). Elsewhere the
module skips. Small inputs: the simulator runs each GPU thread in Python.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_knn_exact, assert_radius_exact
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_covertreex import CoverTree, CoverTreeNeighbors, Runtime, check_invariants
from sklearn_covertreex.backends import KERNELS, get_backend
from sklearn_covertreex.metrics import get_metric

try:
    CB = get_backend("cupy")
except ImportError as exc:  # no GPU and no simulator
    pytest.skip(f"no CUDA device: {exc}", allow_module_level=True)
NB = get_backend("numba")
M3 = get_metric("euclidean").kernel((3.0,))


def _tree_args(tree):
    return (M3, *tree.arrays.query_arrays())


def _pair_set(ei, ej):
    return set(zip(np.asarray(ei).tolist(), np.asarray(ej).tolist(), strict=True))


@pytest.fixture
def tiny_capacities(monkeypatch):
    """Capacities of 1: every search overflows and reruns with doubled capacities."""
    from sklearn_covertreex.backends.cupy import _device, build, conflict, query

    monkeypatch.setattr(query, "FRONTIER0", 1)
    monkeypatch.setattr(build, "FRONTIER0", 1)
    monkeypatch.setattr(conflict, "STACK0", 1)
    monkeypatch.setattr(_device, "ROW_BLOCK", 8)  # several blocks per launch


def test_backend_provides_every_kernel():
    assert CB.name == "cupy"
    assert all(callable(getattr(CB, k)) for k in KERNELS)


@pytest.mark.parametrize("tiny", [False, True], ids=["default-capacity", "overflow-retry"])
def test_cuda_and_numba_kernels_agree(tiny, request):
    """Same answers bit for bit, ties and duplicates included; tiny capacities force reruns."""
    if tiny:
        request.getfixturevalue("tiny_capacities")
    rng = np.random.default_rng(1)
    X = np.round(rng.normal(size=(200, 3)), 1)  # many ties and duplicates
    tree = CoverTree().fit(X)
    args = _tree_args(tree)
    Q = np.round(rng.normal(size=(24, 3)), 1)
    for k in (1, 7, 40):
        d1, i1, *_ = NB.knn(*args, Q, k)
        d2, i2, e2, p2 = CB.knn(*args, Q, k)
        np.testing.assert_array_equal(d1, d2)
        np.testing.assert_array_equal(i1, i2)
        assert e2.dtype == np.int64 and np.all(e2 > 0) and p2.shape == (24,)
    r = np.full(24, 0.4)
    c1 = NB.radius_count(*args, Q, r)
    np.testing.assert_array_equal(c1, CB.radius_count(*args, Q, r))
    offsets = np.concatenate([[0], np.cumsum(c1)])
    for u, v in zip(NB.radius_fill(*args, Q, r, offsets), CB.radius_fill(*args, Q, r, offsets),
                    strict=True):
        np.testing.assert_array_equal(u, v)
    a = tree.arrays
    targs = (M3, a.points, a.level, a.radius, a.parent_dist, a.child_ptr, a.children, a.root,
             np.concatenate([Q, X[:5]]))  # the last five are duplicates
    for u, v in zip(NB.traverse_sparse(*targs), CB.traverse_sparse(*targs), strict=True):
        np.testing.assert_array_equal(u, v)
    lev = rng.integers(-3, 1, size=60)
    for u, v in zip(NB.conflict_dense(M3, X[:60], lev), CB.conflict_dense(M3, X[:60], lev),
                    strict=True):
        np.testing.assert_array_equal(u, v)
    np.testing.assert_array_equal(NB.subtree_radii(M3, a.points, a.parent),
                                  CB.subtree_radii(M3, a.points, a.parent))
    r1, r2 = np.zeros(a.n_nodes), np.zeros(a.n_nodes)
    NB.update_radii(M3, a.points, a.parent, r1, np.arange(0, a.n_nodes, 3))
    CB.update_radii(M3, a.points, a.parent, r2, np.arange(0, a.n_nodes, 3))
    np.testing.assert_array_equal(r1, r2)
    np.testing.assert_array_equal(NB.distances_to_point(M3, X, X[3]),
                                  CB.distances_to_point(M3, X, X[3]))
    ia, ib = rng.integers(0, 200, 50), rng.integers(0, 24, 50)
    np.testing.assert_array_equal(NB.pair_distances(M3, X, ia, Q, ib),
                                  CB.pair_distances(M3, X, ia, Q, ib))


def test_float32_rows_give_numba_answers():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(120, 3)).astype(np.float32)
    tree = CoverTree().fit(X)
    Q = rng.normal(size=(10, 3)).astype(np.float32)
    for u, v in zip(NB.knn(*_tree_args(tree), Q, 5)[:2], CB.knn(*_tree_args(tree), Q, 5)[:2],
                    strict=True):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("seed", [0, 1])
def test_luby_mis_equals_the_reference_rounds(seed):
    rng = np.random.default_rng(seed)
    n = 80
    pairs = rng.integers(0, n, size=(300, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    src = np.concatenate([pairs[:, 0], pairs[:, 1]])
    dst = np.concatenate([pairs[:, 1], pairs[:, 0]])
    order = np.argsort(src, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n))])
    priority = rng.permutation(n).astype(np.float64)
    m1, r1 = NB.luby_mis(indptr, dst[order], priority)
    m2, r2 = CB.luby_mis(indptr, dst[order], priority)
    np.testing.assert_array_equal(m1, m2)
    assert r1 == r2 > 1
    assert CB.luby_mis(np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0))[1] == 0


@pytest.mark.parametrize("case", ["coordinates", "pivots", "slack-wider-than-a-cell", "one-level"])
def test_grid_conflicts_equal_numba_and_brute_force(case):
    rng = np.random.default_rng(7)
    X = np.round(rng.normal(size=(150, 3)), 1)  # ties and duplicates
    lev = rng.integers(-4, 1, size=X.shape[0])
    Y, y_rtol = X[:, :2], 0.0
    if case == "pivots":
        Y = np.stack([np.sqrt(((X - X[p]) ** 2).sum(axis=1)) for p in (0, 17, 99)], axis=1)
        y_rtol = 1e-12
    elif case == "slack-wider-than-a-cell":
        Y, y_rtol = X[:, :3] + 1e12, 1e-12  # every source tests every target of its level
    elif case == "one-level":
        lev = np.full(X.shape[0], -2)
    got = CB.conflict_cells(M3, X, lev, Y, y_rtol)
    assert _pair_set(*got) == _pair_set(*NB.conflict_cells(M3, X, lev, Y, y_rtol))
    if case != "slack-wider-than-a-cell":
        assert _pair_set(*got) == _pair_set(*NB.conflict_dense(M3, X, lev))
    assert got[0].dtype == np.int64 and np.all(got[0] < got[1])


@pytest.mark.parametrize("tiny", [False, True], ids=["default-capacity", "overflow-retry"])
def test_tree_conflicts_and_parents_equal_numba(tiny, request):
    if tiny:
        request.getfixturevalue("tiny_capacities")
    rng = np.random.default_rng(3)
    X = np.round(rng.normal(size=(220, 3)), 1)
    tree = CoverTree().fit(X[:150])
    a = tree.arrays
    B = np.unique(X[150:], axis=0)
    lev, par, dup = NB.traverse_sparse(M3, a.points, a.level, a.radius, a.parent_dist,
                                       a.child_ptr, a.children, a.root, B)
    B, lev, par = B[dup < 0], lev[dup < 0], par[dup < 0]
    targs = (M3, a.points, a.parent, a.child_ptr, a.children, a.root, B, lev, par)
    got = CB.conflict_tree(*targs)
    assert _pair_set(*got) == _pair_set(*NB.conflict_tree(*targs))
    assert _pair_set(*got) == _pair_set(*NB.conflict_dense(M3, B, lev))
    assert len(_pair_set(*got)) == got[0].shape[0] > 0  # each pair once
    target = rng.integers(a.level.min(), a.level.max() + 2, size=X.shape[0])
    eligible = rng.random(a.n_nodes) < 0.7
    pargs = (M3, a.points, a.level, a.child_ptr, a.children, a.root, X, target, eligible)
    want = NB.find_parents(*pargs)
    np.testing.assert_array_equal(CB.find_parents(*pargs), want)
    assert np.any(want >= 0) and np.any(want < 0)


def test_kernels_refuse_other_metrics_and_widths():
    with pytest.raises(ValueError, match="Euclidean metric only"):
        CB.distances_to_point(get_metric("manhattan").kernel((3.0,)), np.zeros((2, 3)),
                              np.zeros(3))
    with pytest.raises(ValueError, match="width"):
        CB.distances_to_point(M3, np.zeros((2, 4)), np.zeros(4))


@pytest.mark.parametrize("conflict", ["segmented", "grid", "tree"])
def test_every_conflict_graph_builds_a_valid_tree_with_numba_answers(conflict):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 3))
    X[7::7] = X[1:-6:7][: X[7::7].shape[0]]  # exact duplicates
    Q = rng.normal(size=(12, 3))
    tree = CoverTree(Runtime(backend="cupy", conflict_graph=conflict, prefix_base=16)).fit(X)
    check_invariants(tree.arrays)
    assert sorted(tree.arrays.ids.tolist()) == list(range(150))
    d, i = tree.knn(Q, 5)
    assert_knn_exact(X, Q, 5, d, i)
    ref = CoverTree(Runtime(backend="numba", construction="batch", conflict_graph=conflict,
                            prefix_base=16)).fit(X)
    for name in ("level", "parent", "radius", "ids"):  # the same deterministic build
        np.testing.assert_array_equal(getattr(tree.arrays, name), getattr(ref.arrays, name))
    indptr, rd, ri = tree.radius(Q, 0.5)
    assert_radius_exact(X, Q, 0.5, indptr, rd, ri)


def test_insert_and_delete_keep_the_invariants():
    rng = np.random.default_rng(5)
    X1 = rng.normal(size=(90, 3))
    X2 = np.concatenate([rng.normal(size=(50, 3)) * 10, X1[:5]])  # far points and duplicates
    t1 = CoverTree(Runtime(backend="cupy")).fit(X1)
    t2 = t1.insert(X2)
    check_invariants(t2.arrays)
    X = np.concatenate([X1, X2])
    Q = rng.normal(size=(10, 3)) * 5
    assert_knn_exact(X, Q, 6, *t2.knn(Q, 6))
    gone = rng.choice(145, 60, replace=False)
    t3 = t2.delete(gone)
    check_invariants(t3.arrays)
    keep = np.setdiff1d(np.arange(145), gone)
    d, i = t3.knn(Q, 6)
    assert_knn_exact(X[keep], Q, 6, d, i, ids=keep)


def test_all_points_equal_and_one_point():
    X = np.full((30, 3), 2.5)
    tree = CoverTree(Runtime(backend="cupy")).fit(X)
    check_invariants(tree.arrays)
    d, i = tree.knn([[2.5, 2.5, 2.5]], 30)
    assert sorted(i[0].tolist()) == list(range(30)) and np.all(d == 0)
    one = CoverTree(Runtime(backend="cupy")).fit(X[:1] + 1.0)
    check_invariants(one.arrays)
    assert one.knn([[0.0, 0.0, 0.0]], 1)[1].tolist() == [[0]]


def test_estimator_with_backend_cupy_equals_numba():
    rng = np.random.default_rng(6)
    X = np.round(rng.normal(size=(160, 3)), 1)
    Q = np.round(rng.normal(size=(15, 3)), 1)
    ours = CoverTreeNeighbors(n_neighbors=6, backend="cupy").fit(X)
    ref = CoverTreeNeighbors(n_neighbors=6, backend="numba").fit(X)
    for u, v in zip(ours.kneighbors(Q), ref.kneighbors(Q), strict=True):
        np.testing.assert_array_equal(u, v)
    for u, v in zip(ours.radius_neighbors(Q, 0.7, sort_results=True),
                    ref.radius_neighbors(Q, 0.7, sort_results=True), strict=True):
        for a, b in zip(u, v, strict=True):
            np.testing.assert_array_equal(a, b)


@settings(max_examples=8, deadline=None)
@given(n=st.integers(1, 60), dup=st.integers(0, 20), scale=st.sampled_from([1e-3, 1.0, 1e6]),
       seed=st.integers(0, 2**16), k=st.integers(1, 8))
def test_hypothesis_exact_knn_and_radius(n, dup, scale, seed, k):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * scale
    X = np.concatenate([X, X[rng.integers(0, n, dup)]])  # duplicates
    Q = np.concatenate([rng.normal(size=(4, 3)) * scale, X[:2]])
    tree = CoverTree(Runtime(backend="cupy")).fit(X)
    check_invariants(tree.arrays)
    k = min(k, X.shape[0])
    assert_knn_exact(X, Q, k, *tree.knn(Q, k))
    indptr, rd, ri = tree.radius(Q, scale)
    assert_radius_exact(X, Q, scale, indptr, rd, ri)


def test_a_finished_trees_arrays_go_to_the_device_once(monkeypatch):
    """Frozen host arrays (a tree's) are uploaded once per dtype; writeable ones every call."""
    import gc

    from sklearn_covertreex.backends.cupy import _device

    uploads = []
    real = _device.cuda.to_device
    monkeypatch.setattr(_device.cuda, "to_device", lambda a: uploads.append(a.shape) or real(a))
    tree = CoverTree(Runtime(backend="cupy")).fit(np.random.default_rng(5).normal(size=(60, 3)))
    Q = np.random.default_rng(6).normal(size=(5, 3))
    tree.knn(Q, 3)
    first = len(uploads)
    tree.knn(Q, 3)
    again = uploads[first:]  # queries and outputs (5 rows), none of the tree's arrays
    assert again and all(shape[0] == 5 for shape in again)
    frozen = tree.arrays.points
    assert _device.to_device(frozen) is _device.to_device(frozen)
    assert _device.to_device(frozen) is not _device.to_device(frozen, np.float32)
    writeable = np.ones(4)
    assert _device.to_device(writeable) is not _device.to_device(writeable)
    from sklearn_covertreex.backends.frozen_cache import cached_count

    cached = cached_count()
    del tree, frozen
    gc.collect()
    assert cached_count() < cached  # entries leave with their arrays
