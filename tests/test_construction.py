"""The depth-first construction and the choice of construction: exact trees on any input."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_knn_exact, assert_radius_exact, metric_distances
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sklearn_covertreex import CoverTree, ResidualCoverTreeNeighbors, Runtime, check_invariants
from sklearn_covertreex.algo.batch import depth_first
from sklearn_covertreex.algo.registries import CONSTRUCTIONS, resolve_construction
from sklearn_covertreex.backends import get_backend

DEPTH_FIRST = Runtime(construction="depth_first", diagnostics=True)


def _check_exact(tree, X, k=4):
    check_invariants(tree.arrays)
    assert tree.n_points == X.shape[0]
    Q = np.concatenate([X[:7], X[:7] * 0.5 + 0.25])
    k = min(k, X.shape[0])
    d, i = tree.knn(Q, k)
    assert_knn_exact(X, Q, k, d, i, exponent=tree.arrays.scale_exponent)


@given(X=arrays(np.float64, st.tuples(st.integers(1, 80), st.integers(1, 5)),
                elements=st.floats(-50, 50, allow_nan=False, width=16)),
       seed=st.integers(0, 3), order=st.sampled_from(["random", "natural"]))
def test_depth_first_matches_brute_force(X, seed, order):
    """Coarse float16 values make many ties and exact duplicates."""
    tree = CoverTree(DEPTH_FIRST.replace(seed=seed, batch_order=order)).fit(X)
    assert tree.diagnostics["construction"] == "depth_first"
    _check_exact(tree, X)
    scale = float(np.abs(X).max()) or 1.0
    indptr, rd, ri = tree.radius(X[:5], 0.3 * scale)
    assert_radius_exact(X, X[:5], 0.3 * scale, indptr, rd, ri,
                        exponent=tree.arrays.scale_exponent)


ADVERSARIAL = {
    "one point": np.zeros((1, 3)),
    "two points": np.array([[0.0, 0.0], [1.0, 0.0]]),
    "all equal": np.full((50, 4), 3.25),
    "lattice": np.stack(np.meshgrid(*[np.arange(6.0)] * 3), -1).reshape(-1, 3),
    "each row four times": np.repeat(np.random.default_rng(0).normal(size=(40, 3)), 4, axis=0),
    "tiny scale": np.random.default_rng(1).normal(size=(200, 3)) * 1e-300,
    "huge scale": np.random.default_rng(2).normal(size=(200, 3)) * 1e300,
    "mixed scales": np.vstack([np.random.default_rng(3).normal(size=(50, 2)) * 1e-300,
                               np.random.default_rng(4).normal(size=(50, 2)) * 1e300]),
    "high dimension": np.random.default_rng(5).normal(size=(300, 64)),
    "a line of powers of two": np.ldexp(1.0, np.arange(-40, 40))[:, None],
}


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_depth_first_adversarial(name):
    X = ADVERSARIAL[name]
    tree = CoverTree(DEPTH_FIRST).fit(X)
    _check_exact(tree, X)


@pytest.mark.parametrize("metric", ["manhattan", "chebyshev", "cosine", "haversine"])
def test_depth_first_other_metrics(metric):
    rng = np.random.default_rng(6)
    X = rng.uniform(-1.0, 1.0, size=(400, 2)) if metric == "haversine" else \
        rng.normal(size=(400, 3))
    tree = CoverTree(DEPTH_FIRST, metric=metric).fit(X)
    check_invariants(tree.arrays)
    d, i = tree.knn(X[:20], 5)
    ref = np.sort(metric_distances(X, X[:20], metric), axis=1)[:, :5]
    np.testing.assert_allclose(d, ref, rtol=1e-10, atol=1e-12)


def test_depth_first_residual_metric_matches_batch():
    X = np.random.default_rng(7).normal(size=(600, 3))
    answers = []
    for construction in ("depth_first", "batch"):
        nn = ResidualCoverTreeNeighbors(n_neighbors=6, inducing_points=40, algorithm="tree",
                                        construction=construction, random_state=0).fit(X)
        check_invariants(nn.index_.tree)
        assert nn.index_.tree.diagnostics["construction"] == construction
        answers.append(nn.kneighbors(X[:50]))
    np.testing.assert_allclose(answers[0][0], answers[1][0], rtol=1e-12)


def test_insert_as_large_as_the_tree_rebuilds_depth_first():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(900, 3))
    tree = CoverTree(DEPTH_FIRST).fit(X[:300]).delete(np.arange(0, 300, 3))
    small = tree.insert(X[300:350])
    assert small.diagnostics["construction"] == "batch"
    big = small.insert(X[350:])
    assert big.diagnostics["construction"] == "depth_first"
    check_invariants(big.arrays)
    keep = np.setdiff1d(np.arange(900), np.arange(0, 300, 3))
    np.testing.assert_array_equal(big.arrays.live_ids(), keep)
    d, i = big.knn(X[:10], 5)
    assert_knn_exact(X[keep], X[:10], 5, d, i, ids=keep)


def test_auto_builds_low_dimensions_depth_first_and_high_ones_in_batches():
    rng = np.random.default_rng(9)
    n = 2 * depth_first.TRIAL_ROWS
    flat = CoverTree(Runtime(diagnostics=True)).fit(rng.uniform(size=(n, 2)))
    assert flat.diagnostics["construction"] == "depth_first"
    wide = CoverTree(Runtime(diagnostics=True)).fit(rng.normal(size=(n, 12)))
    assert wide.diagnostics["construction"] == "batch"
    check_invariants(wide.arrays)


def test_auto_means_batch_where_the_backend_lacks_the_kernel():
    numpy_backend = get_backend("numpy")
    assert resolve_construction("auto", numpy_backend) == "batch"
    assert resolve_construction("auto", get_backend("numba")) == "auto"
    tree = CoverTree(Runtime(backend="numpy", diagnostics=True)).fit(np.eye(5))
    assert tree.diagnostics["construction"] == "batch"


def test_depth_first_on_a_backend_without_it_names_the_choices():
    with pytest.raises(ValueError, match="'auto', 'batch'"):
        CoverTree(Runtime(backend="numpy", construction="depth_first")).fit(np.eye(5))
    with pytest.raises(ValueError, match="depth_first"):
        Runtime(construction="level").validate()
    assert set(CONSTRUCTIONS.names()) == {"auto", "depth_first", "batch"}


def test_kernel_stops_at_its_distance_budget():
    nb = get_backend("numba")
    X = np.random.default_rng(10).normal(size=(3000, 8))
    metric = CoverTree().fit(X[:5])._ctx(CoverTree().fit(X[:5])._make_params(8)).kernel_metric
    order = np.arange(3000, dtype=np.int64)
    *_, full = nb.construct_depth_first(metric, X, order)
    *_, stopped = nb.construct_depth_first(metric, X, order, 10_000)
    assert full > stopped > 10_000
    assert stopped < full // 10


@settings(max_examples=10)
@given(seed=st.integers(0, 100))
def test_depth_first_and_batch_trees_answer_alike(seed):
    X = np.random.default_rng(seed).normal(size=(500, 3))
    a = CoverTree(DEPTH_FIRST).fit(X)
    b = CoverTree(Runtime(construction="batch")).fit(X)
    da, ia = a.knn(X[:30], 8)
    db, ib = b.knn(X[:30], 8)
    np.testing.assert_array_equal(da, db)
    np.testing.assert_array_equal(ia, ib)


def test_zorder_rows_build_the_same_answers(monkeypatch):
    """Large coordinate sets are built on Z-ordered rows; ids still name the input rows."""
    monkeypatch.setattr(depth_first, "LOCALITY_ROWS", 64)
    X = np.random.default_rng(11).normal(size=(700, 3))
    X[5] = X[17]  # a duplicate across the permutation
    tree = CoverTree(DEPTH_FIRST).fit(X)
    _check_exact(tree, X, k=6)
    d, i = tree.knn(X[17:18], 2)
    assert sorted(i[0].tolist()) == [5, 17]
    a = tree.arrays  # the rows gathered once from the input: each id's row is its input row
    np.testing.assert_array_equal(a.points[a.node_of_id()], X)


def test_zorder_permutation_is_a_permutation():
    from sklearn_covertreex.algo.order.zorder import zorder_permutation

    rng = np.random.default_rng(12)
    for X in (rng.normal(size=(1000, 2)), rng.normal(size=(300, 20)), np.zeros((50, 3)),
              np.ones((1, 2)), np.empty((0, 4))):
        z = zorder_permutation(X)
        np.testing.assert_array_equal(np.sort(z), np.arange(X.shape[0]))
    grid = np.stack(np.meshgrid(np.arange(4.0), np.arange(4.0)), -1).reshape(-1, 2)
    z = zorder_permutation(grid)
    assert np.abs(np.diff(grid[z], axis=0)).sum(axis=1).mean() < 2.0  # mostly unit steps


@pytest.mark.parametrize("construction", ["depth_first", "batch"])
def test_finished_trees_have_the_children_csr_of_their_parents(construction):
    """finalize derives the CSR from the block numbering; child_csr agrees."""
    from sklearn_covertreex.algo.view import child_csr

    X = np.round(np.random.default_rng(13).normal(size=(2000, 2)), 1)  # ties, duplicates
    a = CoverTree(Runtime(construction=construction)).fit(X).arrays
    ptr, children = child_csr(a.parent, a.level)
    np.testing.assert_array_equal(ptr, a.child_ptr)
    np.testing.assert_array_equal(children, a.children)
    assert a.root == 0


@pytest.mark.parametrize("n", [0, 1, 2, 7, 500])
@pytest.mark.parametrize("levels", [(-2, 2), (-1074, 1024)])
def test_child_csr_sorts_by_parent_then_level_descending(n, levels):
    """child_csr's counting sorts give the (parent, level descending, node) order."""
    from sklearn_covertreex.algo.view import child_csr

    rng = np.random.default_rng(n)
    parent = rng.integers(-1, max(n, 1), n)  # some roots (-1), any parents
    level = rng.integers(levels[0], levels[1], n)
    ptr, children = child_csr(parent, level)
    nonroot = np.flatnonzero(parent >= 0)
    expected = nonroot[np.lexsort((nonroot, -level[nonroot], parent[nonroot]))]
    np.testing.assert_array_equal(children, expected)
    np.testing.assert_array_equal(np.diff(ptr), np.bincount(parent[nonroot], minlength=n))
    assert ptr.dtype == children.dtype == np.int64 and ptr.shape == (n + 1,)


@pytest.mark.parametrize("bits", [1, 5, 16, 17, 32, 48, 63])
def test_key_order_is_numpys_stable_argsort(bits):
    """The 16-bit radix passes give np.argsort(kind="stable"), ties in input order."""
    from sklearn_covertreex.algo.order.hilbert import key_order

    rng = np.random.default_rng(bits)
    for n in (0, 1, 2, 999):
        keys = rng.integers(0, 2**bits, n, dtype=np.uint64)
        keys[: n // 3] = keys[n // 3 : 2 * (n // 3)]  # ties
        np.testing.assert_array_equal(key_order(keys, bits), np.argsort(keys, kind="stable"))


def test_zorder_keys_interleave_the_cells_bits():
    """The compiled interleave equals the bit-by-bit definition (the order the trees use)."""
    from sklearn_covertreex.algo.order.hilbert import grid_cells, widest_columns
    from sklearn_covertreex.algo.order.zorder import _interleave

    rng = np.random.default_rng(14)
    for X, bits in ((rng.normal(size=(500, 2)), 9), (rng.normal(size=(300, 7)), 9),
                    (rng.uniform(size=(200, 3)), 16), (np.zeros((20, 4)), 3)):
        dims = widest_columns(X, 8)
        cells = grid_cells(X, dims, bits)
        expected = np.zeros(X.shape[0], np.uint64)
        for j in range(dims.size):
            col = cells[:, j].astype(np.uint64)
            for b in range(bits):
                expected |= ((col >> np.uint64(b)) & np.uint64(1)) << np.uint64(b * dims.size + j)
        np.testing.assert_array_equal(_interleave(cells, bits), expected)
