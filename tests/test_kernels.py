"""Backend kernels: same answers on every backend; numba accepts any array layout."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import JAX, _importable

from sklearn_covertreex import CoverTree, Runtime
from sklearn_covertreex.backends import KERNELS, get_backend
from sklearn_covertreex.metrics import get_metric, kernel_class


@pytest.mark.parametrize("name", ["numpy", "numba", "auto", JAX])
def test_backends_provide_every_kernel(name):
    backend = get_backend(name)
    missing = [k for k in KERNELS if not callable(getattr(backend, k, None))]
    assert missing == []


def test_unknown_backend_names_choices():
    with pytest.raises(ValueError, match="numba"):
        get_backend("cuda")


def _metric(tree):
    return get_metric(tree.metric).kernel(tree.arrays.metric_params)


def _tree_args(tree):
    return (_metric(tree), *tree.arrays.query_arrays())


def test_numba_kernels_accept_readonly_float32_fortran():
    nb = get_backend("numba")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    tree = CoverTree().fit(X)
    args = _tree_args(tree)
    Q64 = rng.normal(size=(25, 4))
    ref_d, ref_i, *_ = nb.knn(*args, Q64, 5)
    variants = []
    q32 = np.asfortranarray(Q64.astype(np.float32))
    q32.flags.writeable = False
    variants.append(q32)
    qf = np.asfortranarray(Q64)
    qf.flags.writeable = False
    variants.append(qf)
    for Q in variants:
        d, i, *_ = nb.knn(*args, Q, 5)
        exact_d, exact_i, *_ = nb.knn(*args, np.ascontiguousarray(Q, dtype=np.float64), 5)
        np.testing.assert_array_equal(i, exact_i)
        np.testing.assert_allclose(d, exact_d)
    np.testing.assert_array_equal(nb.knn(*args, qf, 5)[1], ref_i)
    # read-only tree arrays (as after a joblib memmap load) work too
    assert not tree.arrays.points.flags.writeable


def test_numpy_and_numba_kernels_agree_on_queries():
    rng = np.random.default_rng(1)
    X = np.round(rng.normal(size=(300, 3)), 1)  # many ties and duplicates
    tree = CoverTree().fit(X)
    args = _tree_args(tree)
    Q = np.round(rng.normal(size=(30, 3)), 1)
    nb, npb = get_backend("numba"), get_backend("numpy")
    d1, i1, e1, p1 = nb.knn(*args, Q, 7)
    d2, i2, e2, p2 = npb.knn(*args, Q, 7)
    np.testing.assert_array_equal(d1, d2)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(e1, e2)  # the same search, step for step
    np.testing.assert_array_equal(p1, p2)
    r = np.full(30, 0.4)
    a = tree.arrays
    rargs = _tree_args(tree)
    np.testing.assert_array_equal(nb.radius_count(*rargs, Q, r), npb.radius_count(*rargs, Q, r))
    t1 = nb.traverse_sparse(_metric(tree), a.points, a.level, a.radius, a.parent_dist,
                            a.child_ptr, a.children,
                            a.root, Q)
    t2 = npb.traverse_sparse(_metric(tree), a.points, a.level, a.radius, a.parent_dist,
                             a.child_ptr, a.children,
                             a.root, Q)
    for u, v in zip(t1, t2, strict=True):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("name", ["numpy", "numba", JAX])
def test_kernels_refuse_rows_of_another_metric(name):
    backend = get_backend(name)
    tree = CoverTree().fit(np.random.default_rng(2).normal(size=(50, 3)))
    args = _tree_args(tree)
    with pytest.raises(ValueError, match="width"):
        backend.knn(*args, np.zeros((4, 5)), 2)  # 5 columns: not this tree's rows
    unregistered = kernel_class("UnregisteredRows", __name__)(np.array([3.0]))
    with pytest.raises(Exception, match="no compiled distance|Euclidean metric only"):
        backend.distances_to_point(unregistered, np.zeros((2, 3)), np.zeros(3))


@pytest.mark.parametrize("name", [JAX])
@pytest.mark.parametrize("tiny", [False, True], ids=["default-capacity", "overflow-retry"])
def test_jax_and_numba_kernels_agree(name, tiny, monkeypatch):
    """Same answers bit for bit, ties and duplicates included; tiny capacities force retries."""
    jb = get_backend(name)
    if tiny:
        from sklearn_covertreex.backends.jax import build, query

        monkeypatch.setattr(query, "FRONTIER0", 8)
        monkeypatch.setattr(query, "EXPAND0", 4)
        monkeypatch.setattr(build, "FRONTIER0", 8)
        monkeypatch.setattr(build, "EXPAND0", 4)
    rng = np.random.default_rng(1)
    X = np.round(rng.normal(size=(300, 3)), 1)  # many ties and duplicates
    tree = CoverTree().fit(X)
    args = _tree_args(tree)
    Q = np.round(rng.normal(size=(30, 3)), 1)
    nb = get_backend("numba")
    for k in (1, 7) if not tiny else (7,):
        d1, i1, *_ = nb.knn(*args, Q, k)
        d2, i2, e2, p2 = jb.knn(*args, Q, k)
        np.testing.assert_array_equal(d1, d2)
        np.testing.assert_array_equal(i1, i2)
        assert e2.dtype == np.int64 and np.all(e2 > 0) and p2.shape == (30,)
    r = np.full(30, 0.4)
    c1 = nb.radius_count(*args, Q, r)
    if not tiny:
        np.testing.assert_array_equal(c1, jb.radius_count(*args, Q, r))
    offsets = np.concatenate([[0], np.cumsum(c1)])
    for u, v in zip(nb.radius_fill(*args, Q, r, offsets), jb.radius_fill(*args, Q, r, offsets),
                    strict=True):
        np.testing.assert_array_equal(u, v)
    if tiny:
        return  # the retries of knn (shared by radius_count, traverse_sparse) and radius_fill
    a, m = tree.arrays, _metric(tree)
    targs = (m, a.points, a.level, a.radius, a.parent_dist, a.child_ptr, a.children, a.root, Q)
    for u, v in zip(nb.traverse_sparse(*targs), jb.traverse_sparse(*targs), strict=True):
        np.testing.assert_array_equal(u, v)
    lev = rng.integers(-3, 1, size=60)
    for u, v in zip(nb.conflict_dense(m, X[:60], lev), jb.conflict_dense(m, X[:60], lev),
                    strict=True):
        np.testing.assert_array_equal(u, v)
    np.testing.assert_array_equal(nb.subtree_radii(m, a.points, a.parent),
                                  jb.subtree_radii(m, a.points, a.parent))
    np.testing.assert_array_equal(nb.distances_to_point(m, X, X[3]),
                                  jb.distances_to_point(m, X, X[3]))
    import jax

    assert not jax.config.jax_enable_x64  # float64 was switched on for the kernels only


def test_numpy_tree_kernels_refuse_the_residual_metric():
    residual = get_metric("residual_correlation").kernel((3.0, 0.0, 1.0))
    with pytest.raises(ValueError, match="Euclidean metric only"):
        get_backend("numpy").distances_to_point(residual, np.zeros((2, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="no tree kernels"):
        get_backend("numpy", "residual_correlation")


def test_kernel_list_comes_from_the_contract():
    from sklearn_covertreex.backends.contract import TreeKernels

    assert "knn" in KERNELS and "traverse_sparse" in KERNELS and "threads" in KERNELS
    for name in KERNELS:
        assert getattr(TreeKernels, name).__doc__, name


def test_correlation_versions_agree():
    from sklearn_covertreex.metrics.residual.correlation import (
        CUDA_CORRELATION,
        correlation,
        correlation_array,
    )

    r2 = np.concatenate([[0.0], np.logspace(-12, 3, 200)])
    for kind in range(4):
        scalar = np.array([correlation(kind, v) for v in r2])
        np.testing.assert_allclose(correlation_array(np, kind, r2), scalar, rtol=1e-14, atol=0)
    # the CUDA C version is compiled and compared on a GPU (tests/test_residual.py)
    assert "g = exp(-0.5 * r2);" in CUDA_CORRELATION


def test_kernel_classes_are_importable_so_numba_can_cache_kernels():
    import pickle

    from sklearn_covertreex.metrics import METRICS

    for name in METRICS:
        cls = METRICS.get(name).kernel_class
        assert pickle.loads(pickle.dumps(cls)) is cls, name


def test_jax_backend_missing_is_a_clear_import_error(monkeypatch):
    import sys

    for mod in [m for m in sys.modules if m.startswith("sklearn_covertreex.backends.jax")]:
        monkeypatch.delitem(sys.modules, mod)
    for mod in ("jax", "jax.numpy"):
        monkeypatch.setitem(sys.modules, mod, None)  # "import jax" now raises ImportError
    with pytest.raises(ImportError, match=r"backend 'jax'.*sklearn_covertreex\[jax\]"):
        get_backend("jax")
    from sklearn_covertreex.engines.residual import RESIDUAL_ENGINES

    with pytest.raises(ImportError, match=r"sklearn_covertreex\[jax\]"):
        RESIDUAL_ENGINES.get("brute-jax").check_available()


def _pair_set(ei, ej):
    return set(zip(np.asarray(ei).tolist(), np.asarray(ej).tolist(), strict=True))


@pytest.mark.parametrize("name", [JAX])
@pytest.mark.parametrize("case", ["coordinates", "pivots", "slack-wider-than-a-cell", "one-level"])
def test_jax_grid_conflicts_equal_numba_and_brute_force(name, case):
    """The jax grid look-up finds exactly the conflicting pairs (ties on the radius included)."""
    jb, nb = get_backend(name), get_backend("numba")
    rng = np.random.default_rng(7)
    X = np.round(rng.normal(size=(500, 3)), 1)  # ties and duplicates
    m = get_metric("euclidean").kernel((3.0,))
    lev = rng.integers(-4, 1, size=X.shape[0])
    Y, y_rtol = X[:, :2], 0.0
    if case == "pivots":
        Y = np.stack([np.sqrt(((X - X[p]) ** 2).sum(axis=1)) for p in (0, 17, 99)], axis=1)
        y_rtol = 1e-12
    elif case == "slack-wider-than-a-cell":
        Y, y_rtol = X[:, :3] + 1e12, 1e-12  # every source tests every target of its level
    elif case == "one-level":
        lev = np.full(X.shape[0], -2)
    got = jb.conflict_cells(m, X, lev, Y, y_rtol)
    want = nb.conflict_cells(m, X, lev, Y, y_rtol)
    assert _pair_set(*got) == _pair_set(*want)
    if case != "slack-wider-than-a-cell":  # Y shifted by 1e12 rounds: not an exact embedding
        assert _pair_set(*got) == _pair_set(*nb.conflict_dense(m, X, lev))
    assert got[0].dtype == np.int64 and np.all(got[0] < got[1])


@pytest.mark.parametrize("name", [JAX])
def test_jax_tree_conflicts_and_parents_equal_numba(name, monkeypatch):
    """The flat descents of the jax conflict_tree and find_parents match numba's searches."""
    from sklearn_covertreex.backends.jax import build, conflict

    monkeypatch.setattr(build, "POINT_BLOCK", 64)  # several blocks
    monkeypatch.setattr(conflict, "POINT_BLOCK", 64)
    jb, nb = get_backend(name), get_backend("numba")
    rng = np.random.default_rng(3)
    X = np.round(rng.normal(size=(400, 3)), 1)
    tree = CoverTree().fit(X[:250])
    a, m = tree.arrays, _metric(tree)
    B = np.unique(X[250:], axis=0)
    lev, par, dup = nb.traverse_sparse(m, a.points, a.level, a.radius, a.parent_dist,
                                       a.child_ptr, a.children, a.root, B)
    B, lev, par = B[dup < 0], lev[dup < 0], par[dup < 0]
    targs = (m, a.points, a.parent, a.child_ptr, a.children, a.root, B, lev, par)
    got, want = jb.conflict_tree(*targs), nb.conflict_tree(*targs)
    assert _pair_set(*got) == _pair_set(*want) == _pair_set(*nb.conflict_dense(m, B, lev))
    assert len(_pair_set(*got)) == got[0].shape[0] > 0  # each pair once
    target = rng.integers(a.level.min(), a.level.max() + 2, size=X.shape[0])
    eligible = rng.random(a.n_nodes) < 0.7
    pargs = (m, a.points, a.level, a.child_ptr, a.children, a.root, X, target, eligible)
    np.testing.assert_array_equal(jb.find_parents(*pargs), nb.find_parents(*pargs))
    assert np.any(nb.find_parents(*pargs) >= 0) and np.any(nb.find_parents(*pargs) < 0)


@pytest.mark.parametrize("name", ["numpy", "numba", JAX])
def test_grid_conflicts_when_one_column_cannot_resolve_the_scale(name):
    """A source whose slack exceeds a cell in one column only must still find every pair.

    Column 0 carries a 1e12 offset (a valid embedding within y_rtol = 1e-12), so
    its window spans many cells while column 1 spans three; the look-up used to
    cap the span at 5 and test only that part of the window (182 of 557 pairs lost).
    """
    rng = np.random.default_rng(7)
    X = np.round(rng.normal(size=(500, 3)), 1)
    m = get_metric("euclidean").kernel((3.0,))
    lev = rng.integers(-4, 1, size=X.shape[0])
    Y = X[:, :2].copy()
    Y[:, 0] += 1e12
    got = get_backend(name).conflict_cells(m, X, lev, Y, 1e-12)
    assert _pair_set(*got) == _pair_set(*get_backend("numba").conflict_dense(m, X, lev))


@pytest.mark.parametrize("embedding", ["coordinates", "pivots"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_numba_grid_conflicts_reusing_a_coarser_table(embedding, seed, monkeypatch):
    """Sparse low levels probe the last table on its coarser grid, and still find every pair.

    Most points sit on two levels and a long tail of levels below holds a few
    each (points close to one another), so the tail reuses the table of the
    bulk plus a small table of the tail points, instead of a table of the whole
    batch per level; the pairs must equal the all-pairs reference.
    """
    import sklearn_covertreex.backends.cell_hash as cell_hash
    import sklearn_covertreex.backends.numba.conflict as nbc

    rng = np.random.default_rng(seed)
    bulk = np.round(rng.normal(size=(400, 3)), 1)  # ties and duplicates
    tail = bulk[rng.integers(0, 400, size=60)] + rng.normal(scale=1e-3, size=(60, 3))
    X = np.concatenate([bulk, tail, tail[:10] + 1e-6])
    lev = np.concatenate([rng.integers(-1, 1, size=400), rng.integers(-14, -2, size=70)])
    m = get_metric("euclidean").kernel((3.0,))
    Y, y_rtol = X, 0.0
    if embedding == "pivots":
        Y = np.stack([np.sqrt(((X - X[p]) ** 2).sum(axis=1)) for p in (0, 17, 99)], axis=1)
        y_rtol = 1e-12
    rows = []
    table = cell_hash.cell_table

    def counted_table(members, Y, side):
        rows.append(members.size)
        return table(members, Y, side)

    monkeypatch.setattr(cell_hash, "cell_table", counted_table)
    got = nbc.conflict_cells(m, X, lev, Y, y_rtol)
    assert _pair_set(*got) == _pair_set(*get_backend("numba").conflict_dense(m, X, lev))
    assert len(_pair_set(*got)) > 0
    assert sum(rows) < X.shape[0] * 4  # the tail's levels did not rebuild the whole table


@pytest.mark.parametrize("name", ["numpy", "numba"])
def test_seeded_knn_is_exact_on_repeated_and_duplicate_queries(name):
    """Each query is seeded with the previous query's neighbours: answers stay exact.

    Duplicated rows put several ids on one node (a seed node holding some
    of the previous neighbours and not others), repeated queries seed with
    the exact answer, far-apart queries with a poor one, and k = n seeds
    every node.
    """
    from conftest import assert_knn_exact

    rng = np.random.default_rng(7)
    base = np.round(rng.normal(size=(60, 2)), 1)
    X = np.concatenate([base, base[:25], base[:5]])  # nodes with 1, 2 and 3 ids
    tree = CoverTree().fit(X)
    args = _tree_args(tree)
    backend = get_backend(name)
    Q = np.concatenate([X[:10], X[:10], X[::-1][:10] * 50.0, rng.normal(size=(10, 2))])
    for k in (1, 3, 8, X.shape[0]):
        d, i, evals, _ = backend.knn(*args, Q, k)
        assert_knn_exact(tree.fitted_rows()[1], Q, k, d, i, tree.fitted_rows()[0])
        assert np.all(evals >= 1)


def test_seeded_knn_answers_do_not_depend_on_chunks_or_threads():
    """Seeds are reset at each chunk a thread takes; the answers never change."""
    rng = np.random.default_rng(11)
    X = np.round(rng.normal(size=(2000, 3)), 1)
    tree = CoverTree().fit(X)
    args = _tree_args(tree)
    Q = np.round(rng.normal(size=(3000, 3)), 1)
    nb = get_backend("numba")
    d1, i1, *_ = nb.knn(*args, Q, 9)
    with nb.threads(2):
        d2, i2, *_ = nb.knn(*args, Q, 9)
    d3, i3, *_ = nb.knn(*args, Q[::-1].copy(), 9)
    np.testing.assert_array_equal(d1, d2)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(d1, d3[::-1])
    np.testing.assert_array_equal(i1, i3[::-1])


def test_cupy_backend_without_a_gpu_is_a_clear_import_error():
    from numba import cuda

    if cuda.is_available():
        pytest.skip("a CUDA device (or the simulator) is present")
    with pytest.raises(ImportError, match=r"backend 'cupy'.*NVIDIA GPU"):
        get_backend("cupy")
    with pytest.raises(ImportError, match=r"backend 'cupy'.*NVIDIA GPU"):
        CoverTree(Runtime(backend="cupy")).fit(np.zeros((3, 2)))


def test_a_finished_trees_device_copy_is_made_once_while_its_arrays_live():
    """frozen_cache: read-only owning arrays (a tree's) give one cached value; others none."""
    import gc

    from sklearn_covertreex.backends import frozen_cache

    tree = CoverTree().fit(np.random.default_rng(3).normal(size=(50, 3)))
    a = tree.arrays
    made = []

    def make():
        made.append(1)
        return object()

    args = (a.points, a.radius, None)
    first = frozen_cache.made_once(args, "k", make)
    assert frozen_cache.made_once(args, "k", make) is first and len(made) == 1
    assert frozen_cache.made_once(args, "other key", make) is not first
    writeable = np.ones(3)
    frozen_cache.made_once((a.points, writeable), "k", make)
    frozen_cache.made_once((a.points, writeable), "k", make)
    assert len(made) == 4  # a writeable array is never cached
    view = a.points[:10]  # read-only, but not owning its data
    assert not frozen_cache.is_frozen(view) and frozen_cache.is_frozen(a.points)
    held = frozen_cache.cached_count()
    del tree, a, args, first
    gc.collect()
    assert frozen_cache.cached_count() <= held - 2  # both values left with the arrays


@pytest.mark.skipif(not _importable("jax"), reason="needs jax")
def test_jax_pads_and_moves_a_finished_tree_once():
    import jax.numpy as jnp

    from sklearn_covertreex.backends.jax._common import x64
    from sklearn_covertreex.backends.jax._tree import padded_tree

    a = CoverTree().fit(np.random.default_rng(4).normal(size=(40, 2))).arrays
    with x64():
        one = padded_tree(jnp, np.float64, a.points, a.radius, a.child_ptr, a.children,
                          a.id_ptr, a.ids, a.root)
        two = padded_tree(jnp, np.float64, a.points, a.radius, a.child_ptr, a.children,
                          a.id_ptr, a.ids, a.root)
        fresh = padded_tree(jnp, np.float64, a.points.copy(), a.radius, a.child_ptr,
                            a.children, a.id_ptr, a.ids, a.root)
    assert one is two and fresh is not one
    np.testing.assert_array_equal(np.asarray(fresh.points), np.asarray(one.points))
