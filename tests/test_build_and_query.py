"""Every build path passes the invariant checker and answers exactly."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import JAX, assert_knn_exact, assert_radius_exact, brute_distances

from sklearn_covertreex import CoverTree, Runtime, check_invariants
from sklearn_covertreex.core.tree import TreeArrays

STRATEGIES = list(itertools.product(
    ("numba", "numpy"), ("sparse",), ("segmented", "grid", "tree"),
    ("random", "natural", "hilbert"),
)) + [  # jax: every conflict graph (the order is not a kernel choice)
    pytest.param(*JAX.values, "sparse", c, "random", marks=JAX.marks)
    for c in ("segmented", "grid", "tree")
]


def _data(seed: int, n: int, d: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[7::7] = X[1:-6:7][: X[7::7].shape[0]]  # exact duplicates
    return X


@pytest.mark.parametrize("backend, traversal, conflict, order", STRATEGIES)
def test_every_strategy_builds_valid_tree_with_same_answers(backend, traversal, conflict, order):
    n = 600 if backend == "numba" else 150
    X = _data(0, n, 3)
    Q = np.random.default_rng(1).normal(size=(20, 3))
    rt = Runtime(backend=backend, traversal=traversal, conflict_graph=conflict,
                 batch_order=order, prefix_base=16)
    tree = CoverTree(rt).fit(X)
    check_invariants(tree.arrays)
    assert sorted(tree.arrays.ids.tolist()) == list(range(n))
    d, i = tree.knn(Q, 5)
    assert_knn_exact(X, Q, 5, d, i)
    ref_d, ref_i = CoverTree(Runtime(backend="numba")).fit(X).knn(Q, 5)
    np.testing.assert_array_equal(d, ref_d)
    np.testing.assert_array_equal(i, ref_i)  # ties broken by smaller id everywhere
    indptr, rd, ri = tree.radius(Q, 0.5)
    assert_radius_exact(X, Q, 0.5, indptr, rd, ri)


@pytest.mark.parametrize("schedule", ["doubling", "single"])
def test_prefix_schedules(schedule, monkeypatch):
    from sklearn_covertreex.algo.registries import PREFIX_SCHEDULES
    from sklearn_covertreex.algo.schedule import single_schedule

    if schedule == "single":  # a test reference, not a registered (user) choice
        assert "single" not in PREFIX_SCHEDULES.names()
        monkeypatch.setitem(PREFIX_SCHEDULES._entries, "single", single_schedule)
    X = _data(2, 800, 4)
    tree = CoverTree(Runtime(prefix_schedule=schedule, prefix_base=8)).fit(X)
    check_invariants(tree.arrays)
    d, i = tree.knn(X[:30], 4)
    assert_knn_exact(X, X[:30], 4, d, i)


def test_single_point():
    X = np.array([[1.0, 2.0, 3.0]])
    tree = CoverTree().fit(X)
    check_invariants(tree.arrays)
    d, i = tree.knn([[0.0, 0.0, 0.0]], 1)
    assert i.tolist() == [[0]]
    np.testing.assert_allclose(d, [[np.sqrt(14.0)]])
    indptr, rd, ri = tree.radius([[1.0, 2.0, 3.0]], 0.0)
    assert ri.tolist() == [0] and rd.tolist() == [0.0]


@pytest.mark.parametrize("backend", ["numba", "numpy", JAX])
def test_all_points_equal_returns_every_duplicate(backend):
    X = np.full((40, 3), 2.5)
    tree = CoverTree(Runtime(backend=backend)).fit(X)
    check_invariants(tree.arrays)
    assert tree.arrays.n_nodes == 1
    d, i = tree.knn([[2.5, 2.5, 2.5]], 40)
    assert sorted(i[0].tolist()) == list(range(40))
    assert np.all(d == 0)
    indptr, rd, ri = tree.radius([[2.5, 2.5, 2.6]], 0.1 + 1e-12)
    assert sorted(ri.tolist()) == list(range(40))


def test_k_equal_n_and_k_too_large():
    X = _data(3, 50, 2)
    tree = CoverTree().fit(X)
    d, i = tree.knn(X[:5], 50)
    assert_knn_exact(X, X[:5], 50, d, i)
    with pytest.raises(ValueError, match="larger than the number of points"):
        tree.knn(X[:5], 51)


@pytest.mark.parametrize("backend", ["numba", JAX])
def test_integer_lattice_massive_ties(backend):
    g = np.arange(8.0)
    X = np.array(list(itertools.product(g, g, g)))
    X = np.concatenate([X, X[:100]])  # duplicates too
    tree = CoverTree(Runtime(batch_order="natural", backend=backend)).fit(X)
    check_invariants(tree.arrays)
    Q = np.array(list(itertools.product([0.0, 3.5, 7.0], repeat=3)))
    d, i = tree.knn(Q, 27)
    assert_knn_exact(X, Q, 27, d, i)
    # ties resolved by the smaller id: identical to a stable brute-force sort
    D = brute_distances(X, Q)
    ref = np.argsort(D, axis=1, kind="stable")[:, :27]
    np.testing.assert_array_equal(i, ref)
    indptr, rd, ri = tree.radius(Q, 1.0)
    assert_radius_exact(X, Q, 1.0, indptr, rd, ri)


@pytest.mark.parametrize("scale", [1e-9, 1e9, 2.0**-40, 1.0])
def test_scale_invariance(scale):
    base = _data(4, 400, 3)
    X = base * scale
    tree = CoverTree().fit(X)
    check_invariants(tree.arrays)
    Q = X[:25] + scale * 0.01
    d, i = tree.knn(Q, 6)
    assert_knn_exact(X, Q, 6, d, i)
    ref_i = CoverTree().fit(base).knn(base[:25] + 0.01, 6)[1]
    np.testing.assert_array_equal(i, ref_i)
    indptr, rd, ri = tree.radius(Q, 0.3 * scale)
    assert_radius_exact(X, Q, 0.3 * scale, indptr, rd, ri)


@pytest.mark.parametrize("d", [1, 2, 5, 16, 64])
def test_dimensions(d):
    X = _data(5, 500, d)
    tree = CoverTree().fit(X)
    check_invariants(tree.arrays)
    Q = np.random.default_rng(6).normal(size=(20, d))
    dist, ind = tree.knn(Q, 7)
    assert_knn_exact(X, Q, 7, dist, ind)


def test_low_intrinsic_dimension_in_high_d():
    rng = np.random.default_rng(7)
    basis = np.linalg.qr(rng.normal(size=(32, 3)))[0].T
    X = rng.normal(size=(1500, 3)) @ basis + 1e-4 * rng.normal(size=(1500, 32))
    tree = CoverTree(Runtime(conflict_graph="grid")).fit(X)
    check_invariants(tree.arrays)
    Q = rng.normal(size=(30, 3)) @ basis
    d, i = tree.knn(Q, 10)
    assert_knn_exact(X, Q, 10, d, i)


def test_float32_fortran_readonly_inputs():
    X = np.asfortranarray(_data(8, 300, 5).astype(np.float32))
    X.flags.writeable = False
    tree = CoverTree().fit(X)
    check_invariants(tree.arrays)
    Q = np.asfortranarray(X[:10])
    d, i = tree.knn(Q, 3)
    assert d.dtype == np.float64
    assert_knn_exact(X.astype(np.float64), Q.astype(np.float64), 3, d, i)


def test_diagnostics_counters():
    tree = CoverTree(Runtime(diagnostics=True, construction="batch")).fit(_data(9, 500, 3))
    diag = tree.diagnostics
    assert diag["construction"] == "batch"
    assert diag["rounds"] >= diag["batches"] >= 1
    assert set(diag["seconds"]) >= {"traverse", "conflict", "mis", "attach"}
    deep = CoverTree(Runtime(diagnostics=True)).fit(_data(9, 500, 3)).diagnostics
    assert deep["construction"] == "depth_first"  # "auto" on numba, small data
    assert deep["distances"] >= 499 and deep["seconds"]["construct"] > 0
    assert CoverTree().fit(_data(9, 50, 3)).diagnostics is None


def test_threads_setting_gives_same_answers():
    X = _data(10, 700, 3)
    a = CoverTree(Runtime(n_jobs=1)).fit(X)
    b = CoverTree(Runtime(n_jobs=-1)).fit(X)
    np.testing.assert_array_equal(a.knn(X[:50], 5)[1], b.knn(X[:50], 5)[1])


def test_pickle_round_trip():
    import pickle

    tree = CoverTree().fit(_data(11, 300, 3))
    back = pickle.loads(pickle.dumps(tree))
    check_invariants(back.arrays)
    Q = _data(12, 10, 3)
    np.testing.assert_array_equal(tree.knn(Q, 4)[1], back.knn(Q, 4)[1])


@pytest.mark.parametrize("backend", [JAX])
def test_tree_of_another_backend_pickles_to_host_arrays_and_loads_anywhere(backend):
    import pickle

    X = _data(11, 300, 3)
    tree = CoverTree(Runtime(backend=backend)).fit(X)
    ref = CoverTree(Runtime(backend="numba", construction="batch")).fit(X)  # jax's construction
    for f in ("points", "level", "parent", "radius", "ids", "children"):
        assert type(getattr(tree.arrays, f)) is np.ndarray
        np.testing.assert_array_equal(getattr(tree.arrays, f), getattr(ref.arrays, f))
    back = pickle.loads(pickle.dumps(tree))
    Q = _data(12, 10, 3)
    for rt in (Runtime(backend="numba"), Runtime(backend="numpy"), Runtime(backend=backend)):
        d, i = CoverTree(rt, _arrays=back.arrays).knn(Q, 4)
        np.testing.assert_array_equal(i, ref.knn(Q, 4)[1])
        np.testing.assert_array_equal(d, ref.knn(Q, 4)[0])


def test_query_diagnostics_are_returned_not_stored():
    X = np.random.default_rng(3).normal(size=(2000, 3))
    tree = CoverTree().fit(X)
    before = dict(tree.__dict__)
    d, i, diag = tree.knn(X[:50], 5, return_diagnostics=True)
    d2, i2 = tree.knn(X[:50], 5)
    np.testing.assert_array_equal(i, i2)
    assert tree.__dict__.keys() == before.keys()
    assert diag.distance_evaluations.shape == diag.pruned_nodes.shape == (50,)
    assert np.all(diag.distance_evaluations >= 1) and np.all(diag.pruned_nodes >= 0)
    # pruning is what keeps the evaluations below n
    assert diag.distance_evaluations.mean() < 2000 and diag.pruned_nodes.sum() > 0
    summary = diag.summary()
    assert summary["distance_evaluations_total"] == int(diag.distance_evaluations.sum())
    assert summary["seconds"] >= 0


@pytest.mark.parametrize("backend", ["numba", "numpy", pytest.param(*JAX.values, marks=JAX.marks)])
def test_dense_references_agree_with_the_registered_strategies(backend):
    """The unregistered dense traversal and conflict graph (test references) give the same."""
    from sklearn_covertreex.algo.batch.builder import TreeBuilder
    from sklearn_covertreex.algo.conflict import conflict_dense, conflict_segmented
    from sklearn_covertreex.algo.registries import CONFLICT_GRAPHS, TRAVERSALS
    from sklearn_covertreex.algo.traverse import traverse_dense, traverse_sparse
    from sklearn_covertreex.algo.view import Context
    from sklearn_covertreex.backends import get_backend
    from sklearn_covertreex.metrics import get_metric

    assert "dense" not in TRAVERSALS.names() and "dense" not in CONFLICT_GRAPHS.names()
    X = _data(3, 400, 3)
    tree = CoverTree(Runtime(backend=backend)).fit(X[:300]).arrays
    ctx = Context(get_backend(backend, "euclidean"), get_metric("euclidean"),
                  tree.metric_params, Runtime(backend=backend), 1)
    view = TreeBuilder.from_tree(tree, 0).view()
    batch = np.ascontiguousarray(np.vstack([X[300:], X[:5]]))  # new points and duplicates
    sparse = traverse_sparse(ctx, view, batch)
    dense = traverse_dense(ctx, view, batch)
    for a, b in zip(sparse, dense, strict=True):
        np.testing.assert_array_equal(a, b)
    lev, par, dup = sparse
    fresh = np.flatnonzero(dup < 0)
    Xf = np.ascontiguousarray(batch[fresh])

    def edges(ei, ej):
        return sorted(map(tuple, np.sort(np.stack([ei, ej], axis=1), axis=1).tolist()))

    assert edges(*conflict_dense(ctx, view, Xf, lev[fresh], par[fresh])) == \
        edges(*conflict_segmented(ctx, view, Xf, lev[fresh], par[fresh]))


@pytest.mark.parametrize("construction", ["depth_first", "batch"])
def test_trees_store_int32_levels_and_index_arrays(construction):
    from sklearn_covertreex.core.tree import INDEX_FIELDS

    rt = Runtime(construction=construction)
    X = np.vstack([_data(3, 300, 2), _data(3, 300, 2)[:40]])  # duplicates too
    trees = [CoverTree(rt).fit(X)]
    trees.append(trees[0].insert(_data(4, 50, 2)))
    trees.append(trees[1].delete(np.arange(0, 390, 3)))
    for tree in trees:
        a = tree.arrays
        check_invariants(a)
        assert a.level.dtype == np.int32
        assert all(getattr(a, name).dtype == np.int32 for name in INDEX_FIELDS)
    d, i = trees[2].knn(X, 5)
    assert i.dtype == np.intp and d.dtype == np.float64


def test_tree_arrays_convert_wider_integers_and_keep_int64_for_huge_trees():
    from dataclasses import replace

    from sklearn_covertreex.core.tree import index_dtype

    a = CoverTree().fit(_data(5, 200, 3)).arrays
    wide = replace(a, level=a.level.astype(np.int64), ids=a.ids.astype(np.int64),
                   children=a.children.astype(np.int64))
    assert wide.level.dtype == np.int32 and wide.ids.dtype == np.int32
    assert not wide.ids.flags.writeable
    np.testing.assert_array_equal(wide.children, a.children)
    assert index_dtype(2**31 - 2) == np.int32
    assert index_dtype(2**31) == np.int64
    huge = replace(a, n_ids_total=2**31)
    assert huge.ids.dtype == np.int64 and huge.parent.dtype == np.int64


@pytest.mark.parametrize("construction", ["depth_first", "batch"])
def test_finished_trees_store_every_subtree_as_one_run(construction):
    """Block order: each internal node's descendants follow its first child without a gap,
    after fit, insert and delete; check_invariants verifies every claimed run."""
    X = np.round(np.random.default_rng(21).normal(size=(1500, 3)), 1)  # duplicates
    tree = CoverTree(Runtime(construction=construction)).fit(X[:1000])
    for step in (tree, tree.insert(X[1000:]), tree.insert(X[1000:]).delete(np.arange(0, 1500, 3))):
        a = step.arrays
        internal = np.diff(a.child_ptr) > 0
        assert np.all(a.subtree_end[internal] >= 0) and np.all(a.subtree_end[~internal] == -1)
        check_invariants(step)


def test_trees_not_in_block_order_claim_no_runs():
    """A tree numbered breadth first (as pickles from before the block order are)
    claims no runs, and its answers stay exact."""
    from sklearn_covertreex.algo.view import child_csr
    from sklearn_covertreex.core.blocks import subtree_ends

    X = np.random.default_rng(22).normal(size=(600, 2))
    a = CoverTree().fit(X).arrays
    n = a.n_nodes
    order = [a.root]  # breadth-first renumbering of the same tree
    for v in order:
        order.extend(a.children[a.child_ptr[v]:a.child_ptr[v + 1]].tolist())
    order = np.array(order)
    new = np.empty(n, np.int64)
    new[order] = np.arange(n)
    parent = np.where(a.parent[order] >= 0, new[np.maximum(a.parent[order], 0)], -1)
    ptr, kids = child_csr(parent, a.level[order])
    bfs = TreeArrays(points=a.points[order], level=a.level[order], parent=parent,
                     parent_dist=a.parent_dist[order], radius=a.radius[order], child_ptr=ptr,
                     children=kids, id_ptr=np.arange(n + 1), ids=a.ids[a.id_ptr[order]], root=0,
                     n_ids_total=a.n_ids_total)
    assert np.all(bfs.subtree_end == -1) and np.any(a.subtree_end >= 0)
    check_invariants(bfs)
    Q = np.random.default_rng(23).normal(size=(50, 2))
    d, _ = CoverTree(_arrays=bfs).knn(Q, 5)
    bd = np.sort(np.linalg.norm(Q[:, None] - X[None], axis=2), axis=1)[:, :5]
    np.testing.assert_allclose(d, bd, rtol=1e-12)
    # a root other than node 0, and an empty tree: no runs
    assert np.all(subtree_ends(np.array([1, -1, 1]), np.array([0, 0, 2, 2]), np.array([0, 2]),
                               1) == -1)
    assert subtree_ends(np.empty(0, np.int32), np.zeros(1, np.int32), np.empty(0, np.int32),
                        -1).shape == (0,)
