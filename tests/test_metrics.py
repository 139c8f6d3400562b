"""Every metric: exact against a metric-aware brute force, on every update path.

The oracle (:func:`conftest.metric_distances`) computes distances from the
coordinates with scikit-learn's own implementations; answers are compared
by the one exactness rule of the benchmarks
(:func:`sklearn_covertreex.cli.compare.compare_answers`).
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from conftest import metric_distances
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit
from sklearn.neighbors import VALID_METRICS, KNeighborsClassifier, NearestNeighbors

from sklearn_covertreex import (
    CoverTree,
    CoverTreeKNeighborsClassifier,
    CoverTreeKNeighborsTransformer,
    CoverTreeNeighbors,
)
from sklearn_covertreex.cli.compare import compare_answers
from sklearn_covertreex.metrics import METRICS

RTOL = 1e-10


def _continuous(rng, n, d=3):
    X = rng.normal(size=(n, d))
    return _with_duplicates(X)


def _with_duplicates(X):
    m = X.shape[0] // 10
    if m:
        X[-m:] = X[:m]  # exact duplicates
    return X


def _latlon(rng, n, d=2):
    lat = rng.uniform(-np.pi / 2, np.pi / 2, n)
    lon = rng.uniform(-np.pi, np.pi, n)
    return _with_duplicates(np.stack([lat, lon], axis=1))


def _categories(rng, n, d=6):
    return rng.integers(0, 3, size=(n, d)).astype(np.float64)


def _booleans(rng, n, d=8):
    return (rng.random((n, d)) < 0.35).astype(np.float64)


_W = np.array([0.5, 2.0, 1.0])
_VI = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, 0.2], [0.0, 0.2, 0.5]])

#: id -> (tree metric, metric_params, oracle metric, oracle params, data)
CASES = {
    "euclidean": ("euclidean", {}, "euclidean", {}, _continuous),
    "manhattan": ("manhattan", {}, "manhattan", {}, _continuous),
    "chebyshev": ("chebyshev", {}, "chebyshev", {}, _continuous),
    "minkowski-3": ("minkowski", {"p": 3}, "minkowski", {"p": 3}, _continuous),
    "minkowski-1.5-w": ("minkowski", {"p": 1.5, "w": _W}, "minkowski", {"p": 1.5, "w": _W},
                        _continuous),
    "seuclidean": ("seuclidean", {"V": _W}, "seuclidean", {"V": _W}, _continuous),
    "mahalanobis": ("mahalanobis", {"VI": _VI}, "mahalanobis", {"VI": _VI}, _continuous),
    "mahalanobis-V": ("mahalanobis", {"V": _VI}, "mahalanobis", {"VI": np.linalg.inv(_VI)},
                      _continuous),
    "sqeuclidean": ("sqeuclidean", {}, "sqeuclidean", {}, _continuous),
    "haversine": ("haversine", {}, "haversine", {}, _latlon),
    "cosine": ("cosine", {}, "cosine", {}, _continuous),
    "correlation": ("correlation", {}, "correlation", {}, _continuous),
    "canberra": ("canberra", {}, "canberra", {}, _continuous),
    "hamming": ("hamming", {}, "hamming", {}, _categories),
    "jaccard": ("jaccard", {}, "jaccard", {}, _booleans),
    "rogerstanimoto": ("rogerstanimoto", {}, "rogerstanimoto", {}, _booleans),
    "sokalmichener": ("sokalmichener", {}, "sokalmichener", {}, _booleans),
    "sokalsneath": ("sokalsneath", {}, "sokalsneath", {}, _booleans),
}


def _ref_knn(D, k):
    order = np.argsort(D, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(D, order, axis=1), order


def _assert_exact(dist, ind, D, k):
    ref_d, ref_i = _ref_knn(D, k)
    result = compare_answers(dist, ind, ref_d, ref_i, RTOL)
    assert result["exact"], result
    assert np.all(np.diff(dist, axis=1) >= 0)


def _case(name, seed=0, n=240, m=30):
    metric, params, oracle, oracle_params, data = CASES[name]
    rng = np.random.default_rng(seed)
    X = data(rng, n)
    Q = np.concatenate([data(rng, m - 5), X[:5]])  # some queries on fitted points
    return metric, params, oracle, oracle_params, X, Q


def test_every_registered_metric_has_a_case():
    assert set(METRICS.names()) - {"residual_correlation"} <= {c[0] for c in CASES.values()}


@pytest.mark.parametrize("name", CASES)
def test_tree_knn_radius_and_updates_are_exact(name):
    metric, params, oracle, oracle_params, X, Q = _case(name)
    k = 7
    tree = CoverTree(metric=metric, metric_params=params).fit(X[:150])
    tree.check()
    tree = tree.insert(X[150:])  # batch insertion
    tree.check()
    D = metric_distances(X, Q, oracle, **oracle_params)
    _assert_exact(*tree.knn(Q, k), D, k)
    # all points, self excluded (duplicates are neighbours at 0)
    d_self, i_self = tree.knn_self(k)
    Dself = metric_distances(X, X, oracle, **oracle_params)
    np.fill_diagonal(Dself, np.inf)
    _assert_exact(d_self, i_self, Dself, k)
    # radius (inclusive), in the metric's own units
    r = float(np.quantile(D, 0.05))
    indptr, rd, ri = tree.radius(Q, r)
    tol = RTOL * D.max()
    for q in range(Q.shape[0]):
        got = set(ri[indptr[q]:indptr[q + 1]].tolist())
        must = set(np.flatnonzero(D[q] <= r - tol).tolist())
        may = set(np.flatnonzero(D[q] <= r + tol).tolist())
        assert must <= got <= may
        np.testing.assert_allclose(rd[indptr[q]:indptr[q + 1]],
                                   D[q, ri[indptr[q]:indptr[q + 1]]], rtol=0, atol=tol)
    # delete, then exact on what is left; the old tree is unchanged
    gone = np.arange(0, X.shape[0], 3)
    smaller = tree.delete(gone)
    smaller.check()
    keep = np.setdiff1d(np.arange(X.shape[0]), gone)
    d, i = smaller.knn(Q, k)
    _assert_exact(d, np.searchsorted(keep, i), D[:, keep], k)  # ids -> columns of D[:, keep]
    assert tree.n_points == X.shape[0]


@pytest.mark.parametrize("name", CASES)
def test_estimator_matches_brute_force_and_pickles(name):
    metric, params, oracle, oracle_params, X, Q = _case(name, seed=1)
    nn = CoverTreeNeighbors(n_neighbors=5, metric=metric, metric_params=params or None).fit(X)
    D = metric_distances(X, Q, oracle, **oracle_params)
    dist, ind = nn.kneighbors(Q)
    _assert_exact(dist, ind, D, 5)
    again = pickle.loads(pickle.dumps(nn))
    d2, i2 = again.kneighbors(Q)
    np.testing.assert_array_equal(i2, ind)
    np.testing.assert_array_equal(d2, dist)
    nn.partial_fit(Q)
    assert nn.n_samples_fit_ == X.shape[0] + Q.shape[0]
    nn.tree_.check()


@pytest.mark.parametrize("name", ["euclidean", "manhattan", "haversine", "cosine", "hamming"])
def test_vecchia_neighbors_are_nearest_predecessors(name):
    metric, params, oracle, oracle_params, X, _ = _case(name, seed=2, n=160)
    k = 4
    nn = CoverTreeNeighbors(n_neighbors=k, metric=metric, metric_params=params or None).fit(X)
    dist, ind = nn.vecchia_neighbors(return_distance=True)
    assert ind.shape == (X.shape[0], k) and ind.dtype == np.intp
    D = metric_distances(X, X, oracle, **oracle_params)
    D[np.triu_indices_from(D)] = np.inf  # only earlier rows
    ref_d, ref_i = _ref_knn(D, k)
    ref_i = np.where(np.isfinite(ref_d), ref_i, -1)
    result = compare_answers(dist, ind, ref_d, ref_i, RTOL)
    assert result["exact"], result
    np.testing.assert_array_equal(nn.vecchia_neighbors(), ind)


# ----------------------------------------------------------------- sklearn semantics
@pytest.mark.parametrize("metric, p, metric_params", [
    ("minkowski", 2, None), ("minkowski", 1, None), ("minkowski", np.inf, None),
    ("minkowski", 3, None), ("minkowski", 3, {"w": _W}), ("minkowski", 2, {"p": 1}),
    ("manhattan", 2, None), ("l2", 2, None), ("cityblock", 2, None), ("l1", 2, None),
    ("infinity", 2, None), ("seuclidean", 2, {"V": _W}), ("cosine", 2, None),
])
def test_effective_metric_as_scikit_learn_sets_it(metric, p, metric_params):
    rng = np.random.default_rng(3)
    X, Q = rng.normal(size=(80, 3)), rng.normal(size=(9, 3))
    ours = CoverTreeNeighbors(n_neighbors=4, metric=metric, p=p,
                              metric_params=metric_params).fit(X)
    algorithm = "ball_tree" if metric in VALID_METRICS["ball_tree"] else "brute"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # p in metric_params
        theirs = NearestNeighbors(n_neighbors=4, metric=metric, p=p,
                                  metric_params=metric_params, algorithm=algorithm).fit(X)
    assert ours.effective_metric_ == theirs.effective_metric_
    assert ours.effective_metric_params_.keys() == theirs.effective_metric_params_.keys()
    for key, value in theirs.effective_metric_params_.items():
        np.testing.assert_array_equal(ours.effective_metric_params_[key], value)
    result = compare_answers(*ours.kneighbors(Q), *theirs.kneighbors(Q), RTOL)
    assert result["exact"], result
    r = float(np.median(theirs.kneighbors(Q)[0]))
    a = ours.radius_neighbors(Q, radius=r, sort_results=True)
    b = theirs.radius_neighbors(Q, radius=r, sort_results=True)
    for x, y in zip(a[1], b[1], strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("metric, match", [
    ("braycurtis", "not a metric"), ("dice", "not a metric"), ("russellrao", "not a metric"),
    ("precomputed", "precomputed"), ("nope", "Unknown metric 'nope'.*'manhattan'.*callable"),
])
def test_metrics_that_are_not_metrics_are_refused_by_name(metric, match):
    X = np.random.default_rng(0).random((20, 3))
    est = CoverTreeNeighbors(metric=metric)
    with pytest.raises(ValueError, match=match):
        est.fit(X)
    assert not hasattr(est, "tree_")


@pytest.mark.parametrize("kwargs, match", [
    ({"metric": "minkowski", "p": 0.5}, "p < 1"),
    ({"metric": "seuclidean"}, "needs metric_params"),
    ({"metric": "mahalanobis"}, "VI"),
    ({"metric": "mahalanobis", "metric_params": {"VI": -np.eye(3)}}, "semi-definite"),
    ({"metric": "minkowski", "p": 3, "metric_params": {"w": [1.0, -1.0, 1.0]}}, ">= 0"),
    ({"metric": "manhattan", "metric_params": {"q": 1}}, "do not fit"),
    ({"metric": "haversine"}, "2 columns"),
    ({"metric": "cosine", "metric_params": []}, "dict"),
])
def test_bad_metric_parameters_raise_value_error(kwargs, match):
    X = np.random.default_rng(0).random((20, 3))
    with pytest.raises(ValueError, match=match):
        CoverTreeNeighbors(**kwargs).fit(X)


def test_zero_rows_are_refused_for_cosine_and_correlation():
    X = np.random.default_rng(0).random((20, 3))
    X[4] = 0.0
    with pytest.raises(ValueError, match="row 4, whose norm is 0"):
        CoverTreeNeighbors(metric="cosine").fit(X)
    X[4] = 7.0  # constant row: nothing left once centred
    with pytest.raises(ValueError, match="correlation distance is undefined for row 4"):
        CoverTreeNeighbors(metric="correlation").fit(X)


@pytest.mark.parametrize("metric", ["hamming", "canberra", "jaccard"])
@pytest.mark.parametrize("param, value, valid", [
    ("conflict_graph", "grid", "'segmented'"), ("batch_order", "hilbert", "'random'")])
def test_coordinate_strategies_are_refused_where_coordinates_do_not_bound(metric, param, value,
                                                                         valid):
    X = _booleans(np.random.default_rng(0), 40)
    est = CoverTreeNeighbors(metric=metric, **{param: value})
    with pytest.raises(ValueError, match=f"{param}={value!r}.*{metric!r}.*{valid}"):
        est.fit(X)


@pytest.mark.parametrize("name", ["manhattan", "chebyshev", "minkowski-3", "haversine",
                                  "cosine", "mahalanobis"])
def test_coordinate_strategies_serve_metrics_whose_coordinates_bound(name):
    metric, params, oracle, oracle_params, X, Q = _case(name, seed=4, n=400)
    D = metric_distances(X, Q, oracle, **oracle_params)
    nn = CoverTreeNeighbors(n_neighbors=6, metric=metric, metric_params=params or None,
                            conflict_graph="grid", batch_order="hilbert").fit(X)
    nn.tree_.check()
    _assert_exact(*nn.kneighbors(Q), D, 6)


def test_numpy_backend_serves_euclidean_rows_and_refuses_others():
    _, _, _, _, X, Q = _case("cosine", seed=5, n=120)
    a = CoverTreeNeighbors(n_neighbors=4, metric="cosine", backend="numpy").fit(X)
    b = CoverTreeNeighbors(n_neighbors=4, metric="cosine", backend="numba").fit(X)
    np.testing.assert_array_equal(a.kneighbors(Q)[1], b.kneighbors(Q)[1])
    with pytest.raises(ValueError, match="numpy.*'manhattan'.*'numba'"):
        CoverTreeNeighbors(metric="manhattan", backend="numpy").fit(X)


# --------------------------------------------------------------------- own metrics
@njit
def weighted_l1(a, b):
    s = 0.0
    for t in range(a.shape[0]):
        s += (t + 1.0) * abs(a[t] - b[t])
    return s


def python_l1(a, b):
    return float(np.abs(a - b).sum())


def squared_l2(a, b):
    return float(((a - b) ** 2).sum())


def test_numba_callable_metric_is_exact_and_pickles():
    rng = np.random.default_rng(6)
    X, Q = _continuous(rng, 300), rng.normal(size=(25, 3))
    nn = CoverTreeNeighbors(n_neighbors=5, metric=weighted_l1).fit(X)
    assert nn.effective_metric_ is weighted_l1
    D = metric_distances(X, Q, "minkowski", p=1, w=np.array([1.0, 2.0, 3.0]))
    _assert_exact(*nn.kneighbors(Q), D, 5)
    nn.tree_.check()
    again = pickle.loads(pickle.dumps(nn))
    np.testing.assert_array_equal(again.kneighbors(Q)[1], nn.kneighbors(Q)[1])
    again.partial_fit(Q)
    again.tree_.delete([0, 1]).check()


def test_python_callable_metric_is_exact():
    rng = np.random.default_rng(7)
    X, Q = _continuous(rng, 60), rng.normal(size=(6, 3))
    nn = CoverTreeNeighbors(n_neighbors=3, metric=python_l1).fit(X)
    _assert_exact(*nn.kneighbors(Q), metric_distances(X, Q, "manhattan"), 3)


def test_callable_that_is_not_a_metric_is_refused_at_fit():
    X = np.random.default_rng(8).normal(size=(50, 3))
    with pytest.raises(ValueError, match="triangle inequality"):
        CoverTreeNeighbors(metric=squared_l2).fit(X)
    with pytest.raises(ValueError, match="metric_params"):
        CoverTreeNeighbors(metric=python_l1, metric_params={"a": 1}).fit(X)


# --------------------------------------------------------------- wrappers, adversarial
def test_classifier_and_transformer_use_the_metric():
    rng = np.random.default_rng(9)
    X = np.stack([rng.uniform(-1.5, 1.5, 200), rng.uniform(-3, 3, 200)], axis=1)  # no ties
    Q = np.stack([rng.uniform(-1.5, 1.5, 20), rng.uniform(-3, 3, 20)], axis=1)
    y = rng.integers(0, 3, 200)
    ours = CoverTreeKNeighborsClassifier(n_neighbors=5, metric="haversine").fit(X, y)
    theirs = KNeighborsClassifier(n_neighbors=5, metric="haversine").fit(X, y)
    np.testing.assert_array_equal(ours.predict_proba(Q), theirs.predict_proba(Q))
    assert ours.effective_metric_ == "haversine"
    G = CoverTreeKNeighborsTransformer(n_neighbors=3, metric="manhattan").fit_transform(X)
    ref = NearestNeighbors(n_neighbors=4, metric="manhattan").fit(X).kneighbors_graph(
        X, mode="distance")
    np.testing.assert_allclose(np.sort(G.data), np.sort(ref.data), rtol=1e-12)


@pytest.mark.parametrize("name", ["manhattan", "chebyshev", "hamming"])
def test_integer_lattice_ties_are_exact(name):
    metric, params, oracle, oracle_params, _, _ = _case(name)
    rng = np.random.default_rng(10)
    X = rng.integers(0, 4, size=(300, 3)).astype(float)
    Q = rng.integers(0, 4, size=(20, 3)).astype(float)
    tree = CoverTree(metric=metric, metric_params=params).fit(X)
    tree.check()
    _assert_exact(*tree.knn(Q, 9), metric_distances(X, Q, oracle, **oracle_params), 9)


@pytest.mark.parametrize("scale", [1e-6, 1e6])
@pytest.mark.parametrize("name", ["manhattan", "chebyshev", "cosine", "canberra"])
def test_scales_give_the_same_neighbours(name, scale):
    metric, params, oracle, oracle_params, X, Q = _case(name, seed=11)
    base = CoverTree(metric=metric, metric_params=params).fit(X).knn(Q, 5)
    scaled = CoverTree(metric=metric, metric_params=params).fit(X * scale).knn(Q * scale, 5)
    D = metric_distances(X * scale, Q * scale, oracle, **oracle_params)
    _assert_exact(*scaled, D, 5)
    assert compare_answers(scaled[0] / (1.0 if name in ("cosine", "canberra") else scale),
                           scaled[1], *base, 1e-9)["exact"]


@settings(max_examples=15)
@given(name=st.sampled_from(sorted(CASES)), seed=st.integers(0, 2**16), n=st.integers(2, 60),
       k=st.integers(1, 6))
def test_hypothesis_knn_exact_every_metric(name, seed, n, k):
    metric, params, oracle, oracle_params, data = CASES[name]
    rng = np.random.default_rng(seed)
    X = data(rng, n)
    X = np.concatenate([X, X[: n // 3]])  # more duplicates
    Q = data(rng, 5)
    k = min(k, X.shape[0])
    tree = CoverTree(metric=metric, metric_params=params).fit(X)
    tree.check()
    _assert_exact(*tree.knn(Q, k), metric_distances(X, Q, oracle, **oracle_params), k)


def test_user_metric_classes_are_found_by_name_unless_closures():
    from sklearn_covertreex.metrics.user import _fingerprint, user_metric

    cls = user_metric(weighted_l1).kernel_class
    assert pickle.loads(pickle.dumps(cls)) is cls  # numba's disk cache finds it again

    def scaled(c):
        @njit
        def dist(a, b):
            return c * np.abs(a - b).sum()
        return dist

    # closures share code and file: each gets its own class, never found by name
    # (building trees on them would compile every kernel twice: not done here)
    one, two = user_metric(scaled(1.0)), user_metric(scaled(2.0))
    assert one.kernel_class is not two.kernel_class
    assert _fingerprint(scaled(3.0)) is None and _fingerprint(weighted_l1) is not None
    X = np.random.default_rng(12).normal(size=(5, 2))
    np.testing.assert_allclose(one.reference((2.0,), X, X[::-1]) * 2,
                               two.reference((2.0,), X, X[::-1]))


def test_bench_metrics_tiny(tmp_path, capsys):
    import json

    from sklearn_covertreex.cli import main

    out = tmp_path / "rows.json"
    argv = ["bench", "metrics", "--workload", "manhattan", "haversine", "cosine", "--n", "600",
            "--brute-queries", "20", "--json", str(out)]
    assert main(argv) == 0
    rows = json.loads(out.read_text())
    assert [r["workload"] for r in rows] == ["manhattan", "haversine", "cosine"]
    assert all(r["exact"] for r in rows) and rows[1]["radius_exact"]
    assert "query" in capsys.readouterr().out
