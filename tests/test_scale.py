"""Every finite float64 input works: data at any scale from 1e-300 to 1e300.

The oracle computes distances from coordinate differences on the data
rescaled by a power of two of its own choosing (exact), then scales them
back: a brute force that cannot overflow or underflow where the true
distances are representable.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_covertreex import CoverTree, CoverTreeNeighbors, Runtime, check_invariants
from sklearn_covertreex.backends import BACKENDS
from sklearn_covertreex.metrics import get_metric, scaling

SCALES = [1e-300, 1e-200, 1e-6, 1.0, 1e6, 1e154, 1e300]
RTOL = 1e-12
rng = np.random.default_rng(0)
X0 = rng.normal(size=(120, 3))
Q0 = rng.normal(size=(9, 3))
V = np.array([0.5, 2.0, 3.0])
A = rng.normal(size=(3, 3))
VI = A @ A.T + np.eye(3)

#: metric -> (metric_params, safe brute force on differences ``s`` already rescaled)
BRUTE = {
    "euclidean": ({}, lambda s: np.sqrt(np.sum(s * s, axis=-1)), 1),
    "manhattan": ({}, lambda s: np.sum(np.abs(s), axis=-1), 1),
    "chebyshev": ({}, lambda s: np.max(np.abs(s), axis=-1), 1),
    "minkowski": ({"p": 3}, lambda s: np.sum(np.abs(s) ** 3, axis=-1) ** (1 / 3), 1),
    "seuclidean": ({"V": V}, lambda s: np.sqrt(np.sum(s * s / V, axis=-1)), 1),
    "mahalanobis": ({"VI": VI}, lambda s: np.sqrt(np.einsum("...i,ij,...j->...", s, VI, s)),
                    1),
    "sqeuclidean": ({}, lambda s: np.sum(s * s, axis=-1), 2),
}


def own_exponent(*arrays: np.ndarray) -> int:
    """The oracle's power of two: brings the largest magnitude to [1/2, 1)."""
    top = max(float(np.abs(a).max()) for a in arrays)
    return 0 if top == 0 else -math.frexp(top)[1]


def brute(X, Q, metric, e):
    """Distance matrix (n_queries, n) on the rows rescaled by ``2**e``, scaled back."""
    _, f, degree = BRUTE[metric]
    Xs, Qs = np.ldexp(X, e), np.ldexp(Q, e)
    return np.ldexp(f(Qs[:, None, :] - Xs[None, :, :]), -degree * e)


def assert_knn(D, d, i):
    k = d.shape[1]
    np.testing.assert_allclose(d, np.sort(D, axis=1)[:, :k], rtol=RTOL, atol=0)
    np.testing.assert_allclose(np.take_along_axis(D, i, axis=1), d, rtol=RTOL, atol=0)
    assert all(len(set(row)) == k for row in i.tolist())


def assert_radius(D, r, indptr, rd, ri):
    for q in range(D.shape[0]):
        got = ri[indptr[q]:indptr[q + 1]]
        assert sorted(got.tolist()) == np.flatnonzero(D[q] <= r[q]).tolist()
        np.testing.assert_allclose(rd[indptr[q]:indptr[q + 1]], D[q, got], rtol=RTOL, atol=0)


def between(D, q=0, j=5):
    """A radius strictly between two distinct brute distances of row ``q`` (no boundary)."""
    vals = np.unique(D[q])
    j = min(j, vals.size - 1)
    return float(vals[j - 1] + (vals[j] - vals[j - 1]) / 2) if j else float(vals[0])


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("s", SCALES)
@pytest.mark.parametrize("metric", sorted(BRUTE))
def test_every_scale_is_exact(metric, s, backend):
    params = BRUTE[metric][0]
    if not BACKENDS.get(backend).provides_tree(get_metric(metric).name):
        pytest.skip(f"no {backend} tree kernels for {metric}")
    X, Q = X0 * s, Q0 * s
    e = own_exponent(X, Q)
    D = brute(X, Q, metric, e)
    tree = CoverTree(Runtime(backend=backend), metric=metric, metric_params=params)
    if not np.all(np.isfinite(D)):  # sqeuclidean at 1e154 and 1e300: beyond float64
        with pytest.raises(ValueError, match="beyond float64"):
            tree.fit(X).knn(Q, 4)
        return
    tree = tree.fit(X)
    check_invariants(tree.arrays)
    d, i = tree.knn(Q, 7)
    assert_knn(D, d, i)
    r = between(D)
    if r > 0:  # (sqeuclidean below 1e-154: every squared distance underflows to 0)
        assert_radius(D, np.full(Q.shape[0], r), *tree.radius(Q, r))
    Dself = brute(X, X, metric, e)
    np.fill_diagonal(Dself, np.inf)
    ds, is_ = tree.knn_self(3)
    assert_knn(Dself, ds, is_)
    np.testing.assert_array_equal(tree.fitted_rows()[1], get_metric(metric).prepare(
        X, tree.arrays.metric_params) if metric != "mahalanobis" else tree.fitted_rows()[1])


@pytest.mark.parametrize("s", [1e-300, 1e-200, 1e154, 1e300])
def test_scaled_rows_are_scaled_by_a_power_of_two(s):
    tree = CoverTree().fit(X0 * s)
    e = tree.arrays.scale_exponent
    assert e != 0
    m = math.frexp(float(np.abs(tree.arrays.points).max()))[1]
    assert m == scaling.TARGET
    np.testing.assert_array_equal(tree.fitted_rows()[1], X0 * s)  # undone exactly


@pytest.mark.parametrize("metric", ["cosine", "correlation", "canberra", "hamming"])
def test_scale_invariant_metrics_are_not_rescaled(metric):
    assert get_metric(metric).scale_power is None
    tree = CoverTree(metric=metric).fit(np.abs(X0) + 1)
    assert tree.arrays.scale_exponent == 0


@pytest.mark.parametrize("s", [1e-300, 1e300])
@pytest.mark.parametrize("metric", ["cosine", "correlation"])
def test_cosine_at_extreme_scales(metric, s):
    from sklearn.metrics import pairwise_distances

    X, Q = X0 * s, Q0 * s
    D = pairwise_distances(Q0, X0, metric=metric)  # scale-invariant: the unscaled answer
    d, i = CoverTree(metric=metric).fit(X).knn(Q, 5)
    np.testing.assert_allclose(d, np.sort(D, axis=1)[:, :5], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_mixed_scales_are_the_whole_array_rescaled(backend):
    X = np.vstack([X0[:60] * 1e-300, X0[60:] * 1e300])
    Q = np.vstack([Q0[:4] * 1e-300, Q0[4:] * 1e300])
    tree = CoverTree(Runtime(backend=backend)).fit(X)
    check_invariants(tree.arrays)
    e = tree.arrays.scale_exponent
    assert e == scaling.TARGET - math.frexp(float(np.abs(X).max()))[1]
    D = brute(X, Q, "euclidean", e)  # tiny rows underflow to 0 alike
    d, i = tree.knn(Q, 70)
    assert_knn(D, d, i)
    r = 1e300
    assert_radius(D, np.full(Q.shape[0], r), *tree.radius(Q, r))


def test_distance_beyond_float64_raises():
    X = np.array([[1e308, 0.0], [-1e308, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="beyond float64"):
        CoverTree().fit(X)
    nn = CoverTreeNeighbors(n_neighbors=1).fit(X0[:, :2])
    before = nn.kneighbors(Q0[:, :2])
    with pytest.raises(ValueError, match="beyond float64"):
        nn.fit(X)
    # a failed fit leaves the fitted state untouched
    for a, b in zip(before, nn.kneighbors(Q0[:, :2]), strict=True):
        np.testing.assert_array_equal(a, b)
    tree = CoverTree().fit(X[:1])
    with pytest.raises(ValueError, match="beyond float64"):
        tree.knn(X[1:2], 1)


def test_queries_far_beyond_the_fitted_rows():
    tree = CoverTree().fit(X0)
    Q = Q0 * 1e300
    e = own_exponent(X0, Q)
    D = brute(X0, Q, "euclidean", e)
    d, i = tree.knn(Q, 5)
    assert_knn(D, d, i)
    tiny = CoverTree().fit(X0 * 1e-300)
    d, i = tiny.knn(Q0, 5)
    assert_knn(brute(X0 * 1e-300, Q0, "euclidean", own_exponent(Q0)), d, i)


def test_subnormal_rows_beside_normal_queries_raise_a_clear_error():
    """Searching at the query's scale would make the subnormal rows lose bits."""
    tree = CoverTree().fit(np.array([[3.44598248e-311]]))
    with pytest.raises(ValueError, match="too large beside the fitted rows"):
        tree.knn(np.array([[0.5]]), 1)


def test_a_large_query_does_not_shift_the_others():
    """Queries at the fitted rows' scale keep exact distances beside one far larger."""
    X = np.array([[2.73296859e-278], [0.0], [5e-278]])
    tree = CoverTree(Runtime(prefix_base=1)).fit(X)
    Q = np.array([[0.0], [0.5], [3e-278], [1e10]])
    D = np.abs(Q - X.T)  # one feature: the distances are exact differences
    d, i = tree.knn(Q, 3)
    np.testing.assert_array_equal(d, np.sort(D, axis=1))
    np.testing.assert_array_equal(np.take_along_axis(D, i, axis=1), d)
    for r in (0.0, 2.8e-278, 1.0):
        indptr, rd, ri = tree.radius(Q, r)
        for q in range(Q.shape[0]):
            want = np.flatnonzero(D[q] <= r)
            got = ri[indptr[q]:indptr[q + 1]]
            assert sorted(got.tolist()) == want.tolist()
            np.testing.assert_array_equal(rd[indptr[q]:indptr[q + 1]], D[q, got])


def test_insert_beyond_the_scale_rebuilds():
    tree = CoverTree().fit(X0[:60])
    assert tree.arrays.scale_exponent == 0
    big = tree.insert(X0[60:] * 1e300)
    check_invariants(big.arrays)
    X = np.vstack([X0[:60], X0[60:] * 1e300])
    e = big.arrays.scale_exponent
    assert e == scaling.TARGET - math.frexp(float(np.abs(X).max()))[1]
    d, i = big.knn(X[::7], 10)
    assert_knn(brute(X, X[::7], "euclidean", e), d, i)
    assert big.arrays.n_ids_total == X.shape[0]
    # the old tree is unchanged
    assert tree.n_points == 60 and tree.arrays.scale_exponent == 0
    # deletion keeps the scale
    smaller = big.delete([61, 62])
    assert smaller.arrays.scale_exponent == e
    check_invariants(smaller.arrays)


@pytest.mark.parametrize("s", SCALES)
def test_estimator_queries_and_partial_fit(s):
    X, Q = X0 * s, Q0 * s
    e = own_exponent(X, Q)
    D = brute(X, Q, "euclidean", e)
    nn = CoverTreeNeighbors(n_neighbors=4).fit(X[:40]).partial_fit(X[40:90]).partial_fit(X[90:])
    d, i = nn.kneighbors(Q)
    assert_knn(D, d, i)
    Dself = brute(X, X, "euclidean", e)
    np.fill_diagonal(Dself, np.inf)
    d, i = nn.kneighbors()
    assert_knn(Dself, d, i)
    r = between(D, 0, 8)  # at the data's scale: the radius is scaled too
    rd, ri = nn.radius_neighbors(Q, radius=r, sort_results=True)
    for q in range(Q.shape[0]):
        assert sorted(ri[q].tolist()) == np.flatnonzero(D[q] <= r).tolist()
        np.testing.assert_allclose(rd[q], D[q, ri[q]], rtol=RTOL, atol=0)
    again = pickle.loads(pickle.dumps(nn))
    np.testing.assert_array_equal(again.kneighbors(Q)[0], nn.kneighbors(Q)[0])


def test_format2_pickles_load_and_answer_the_same():
    from pathlib import Path

    with open(Path(__file__).parent / "data" / "trees_format2.pkl", "rb") as f:
        X, Q, stored = pickle.load(f)
    for key, value in stored.items():
        if key.startswith("tree_"):
            tree, knn, radius = value
            assert tree.arrays.scale_exponent == 0
            for a, b in zip(tree.knn(Q, 4), knn, strict=True):
                np.testing.assert_array_equal(a, b)
            r = 1500.0 ** (2 if key == "tree_sqeuclidean" else 1)
            for a, b in zip(tree.radius(Q, r), radius, strict=True):
                np.testing.assert_array_equal(a, b)
            check_invariants(tree.arrays)
    nn, knn, (rd, ri) = stored["neighbors"]
    for a, b in zip(nn.kneighbors(Q), knn, strict=True):
        np.testing.assert_array_equal(a, b)
    gd, gi = nn.radius_neighbors(Q, 1200.0, sort_results=True)
    for q in range(Q.shape[0]):
        np.testing.assert_array_equal(gd[q], rd[q])
        np.testing.assert_array_equal(gi[q], ri[q])
    nn.partial_fit(Q)
    assert nn.n_samples_fit_ == X.shape[0] + Q.shape[0]


@st.composite
def scaled_sets(draw):
    n = draw(st.integers(2, 40))
    d = draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["float", "lattice", "dups"]))
    local = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "lattice":
        X = local.integers(-3, 4, size=(n, d)).astype(float)
    elif kind == "dups":
        X = local.normal(size=(max(1, n // 4), d))[local.integers(0, max(1, n // 4), n)]
    else:
        X = local.normal(size=(n, d))
    exps = draw(st.lists(st.integers(-300, 300), min_size=1, max_size=2))
    scales = 10.0 ** np.array(exps, dtype=float)
    X = X * scales[local.integers(0, scales.size, n)][:, None]  # mixed when two scales
    return X, int(np.unique(exps).size > 1)


@settings(max_examples=40, deadline=None)
@given(data=scaled_sets(), metric=st.sampled_from(["euclidean", "manhattan", "chebyshev",
                                                    "minkowski"]),
       backend=st.sampled_from(["numpy", "numba"]), k=st.integers(1, 6))
def test_hypothesis_any_scale(data, metric, backend, k):
    X, mixed = data
    params = BRUTE[metric][0]
    if not BACKENDS.get(backend).provides_tree(metric):
        backend = "numba"
    tree = CoverTree(Runtime(backend=backend), metric=metric, metric_params=params).fit(X)
    check_invariants(tree.arrays)
    Q = X[: min(5, X.shape[0])] * 1.5
    # the oracle rescales by its own power of two, or (mixed scales) by the tree's
    e = tree.arrays.scale_exponent if mixed else own_exponent(X, Q)
    D = brute(X, Q, metric, e)
    k = min(k, X.shape[0])
    d, i = tree.knn(Q, k)
    assert_knn(D, d, i)


@pytest.mark.parametrize("s", [1e-300, 1.0, 1e300, 1.1e308])
def test_canberra_at_any_scale(s):
    """Scale-invariant, not rescaled: terms whose |a| + |b| overflows use the halves."""
    from scipy.spatial.distance import cdist

    X = np.clip(X0, -1.5, 1.5)
    Q = np.clip(Q0, -1.5, 1.5)
    D = cdist(Q, X, "canberra")  # the unscaled answer
    d, i = CoverTree(metric="canberra").fit(X * s).knn(Q * s, 6)
    assert_knn(D, d, i) if s != 1e-300 else np.testing.assert_allclose(
        d, np.sort(D, axis=1)[:, :6], rtol=1e-9)
