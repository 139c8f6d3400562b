"""Estimators behave like their scikit-learn counterparts."""

from __future__ import annotations

import pickle

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from conftest import assert_knn_exact
from sklearn.cluster import DBSCAN
from sklearn.datasets import load_digits, make_regression
from sklearn.manifold import Isomap
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neighbors import (
    KNeighborsClassifier,
    KNeighborsRegressor,
    KNeighborsTransformer,
    NearestNeighbors,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_covertreex import (
    CoverTreeKNeighborsClassifier,
    CoverTreeKNeighborsRegressor,
    CoverTreeKNeighborsTransformer,
    CoverTreeNeighbors,
)
from sklearn_covertreex.estimators._common import query_threads


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(400, 5)), rng.normal(size=(60, 5))


def test_kneighbors_matches_nearest_neighbors(data):
    X, Q = data
    ours = CoverTreeNeighbors(n_neighbors=7).fit(X)
    ref = NearestNeighbors(n_neighbors=7, algorithm="brute").fit(X)
    for query in (Q, None):
        d, i = ours.kneighbors(query)
        rd, ri = ref.kneighbors(query)
        np.testing.assert_allclose(d, rd, rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(i, ri)
        assert d.dtype == np.float64 and i.dtype == np.intp
    assert np.array_equal(ours.kneighbors(Q, 3, return_distance=False),
                          ref.kneighbors(Q, 3, return_distance=False))


def test_kneighbors_x_none_with_duplicates():
    X = np.repeat(np.arange(10.0)[:, None], 4, axis=0)  # every point four times
    ours = CoverTreeNeighbors(n_neighbors=3).fit(X)
    ref = NearestNeighbors(n_neighbors=3, algorithm="brute").fit(X)
    d, i = ours.kneighbors()
    rd, _ = ref.kneighbors()
    np.testing.assert_allclose(d, rd)
    assert not np.any(i == np.arange(40)[:, None])  # self never returned here


def test_kneighbors_errors(data):
    X, Q = data
    nn = CoverTreeNeighbors().fit(X[:10])
    with pytest.raises(ValueError, match="Expected n_neighbors > 0. Got 0"):
        nn.kneighbors(Q, 0)
    with pytest.raises(TypeError, match="integer"):
        nn.kneighbors(Q, 2.0)
    with pytest.raises(ValueError, match="Expected n_neighbors < n_samples_fit"):
        nn.kneighbors(None, 10)
    with pytest.raises(ValueError, match="Expected n_neighbors <= n_samples_fit"):
        nn.kneighbors(Q, 11)
    assert nn.kneighbors(Q, 10)[0].shape == (60, 10)
    with pytest.raises(ValueError, match="X has 4 features"):
        nn.kneighbors(Q[:, :4])
    with pytest.raises(ValueError, match="Unsupported mode"):
        nn.kneighbors_graph(Q, mode="weird")


def test_graphs_match_sklearn(data):
    X, Q = data
    ours = CoverTreeNeighbors(n_neighbors=4, radius=1.2).fit(X)
    ref = NearestNeighbors(n_neighbors=4, radius=1.2, algorithm="brute").fit(X)
    for mode in ("connectivity", "distance"):
        for query in (Q, None):
            G = ours.kneighbors_graph(query, mode=mode)
            R = ref.kneighbors_graph(query, mode=mode)
            assert isinstance(G, sp.csr_matrix)
            np.testing.assert_array_equal(G.indptr, R.indptr)
            np.testing.assert_array_equal(G.indices, R.indices)
            np.testing.assert_allclose(G.data, R.data, rtol=1e-10, atol=1e-12)
            Gr = ours.radius_neighbors_graph(query, mode=mode)
            Rr = ref.radius_neighbors_graph(query, mode=mode)
            np.testing.assert_allclose(Gr.toarray(), Rr.toarray(), rtol=1e-10, atol=1e-12)
            assert Gr.nnz == Rr.nnz


def test_radius_neighbors_matches(data):
    X, Q = data
    ours = CoverTreeNeighbors(radius=1.5).fit(X)
    ref = NearestNeighbors(radius=1.5, algorithm="brute").fit(X)
    for query in (Q, None):
        d, i = ours.radius_neighbors(query, sort_results=True)
        rd, ri = ref.radius_neighbors(query, sort_results=True)
        assert d.dtype == object and len(d) == len(rd)
        for a, b, c, e in zip(d, rd, i, ri, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
            assert set(c.tolist()) == set(e.tolist())
    with pytest.raises(ValueError, match="return_distance must be True"):
        ours.radius_neighbors(Q, return_distance=False, sort_results=True)
    only = ours.radius_neighbors(Q, 0.5, return_distance=False)
    assert only.dtype == object


def test_sparse_interface_config(data):
    X, Q = data
    nn = CoverTreeNeighbors(n_neighbors=3).fit(X)
    if "sparse_interface" not in sklearn.get_config():
        pytest.skip("scikit-learn without the sparse_interface option")
    with sklearn.config_context(sparse_interface="sparray"):
        assert isinstance(nn.kneighbors_graph(Q), sp.csr_array)


def test_partial_fit_continues_indices_and_failure_keeps_state(data):
    X, Q = data
    nn = CoverTreeNeighbors(n_neighbors=5).partial_fit(X[:150])
    nn.partial_fit(X[150:])
    assert nn.n_samples_fit_ == 400
    d, i = nn.kneighbors(Q)
    assert_knn_exact(X, Q, 5, d, i)
    before = (nn.tree_, nn.n_samples_fit_, nn.n_features_in_)
    for bad in (X[:3, :4], np.full((2, 5), np.nan), sp.csr_matrix(X[:3])):
        with pytest.raises((ValueError, TypeError)):
            nn.partial_fit(bad)
        assert (nn.tree_, nn.n_samples_fit_, nn.n_features_in_) == before
    with pytest.raises(TypeError, match="sparse"):
        CoverTreeNeighbors().fit(sp.csr_matrix(X))


def test_unknown_strategy_names_choices(data):
    X, _ = data
    with pytest.raises(ValueError, match="segmented"):
        CoverTreeNeighbors(conflict_graph="nope").fit(X)
    nn = CoverTreeNeighbors().fit(X)
    nn.set_params(traversal="nope")
    with pytest.raises(ValueError, match="sparse"):
        nn.partial_fit(X[:3])
    assert nn.n_samples_fit_ == 400


def test_pandas_feature_names(data):
    pd = pytest.importorskip("pandas")
    X, Q = data
    cols = [f"f{i}" for i in range(5)]
    nn = CoverTreeNeighbors().fit(pd.DataFrame(X, columns=cols))
    assert list(nn.feature_names_in_) == cols
    with pytest.warns(UserWarning, match="feature names"):
        nn.kneighbors(Q)
    with pytest.raises(ValueError, match="feature names should match"):
        nn.kneighbors(pd.DataFrame(Q, columns=cols[::-1]))
    from sklearn.utils.estimator_checks import check_dataframe_column_names_consistency

    for est in (CoverTreeKNeighborsClassifier(), CoverTreeKNeighborsRegressor(),
                CoverTreeKNeighborsTransformer()):
        check_dataframe_column_names_consistency(type(est).__name__, est)


def test_pickle_joblib_and_readonly_memmap(data, tmp_path):
    X, Q = data
    nn = CoverTreeNeighbors(n_neighbors=6).fit(X)
    ref = nn.kneighbors(Q)
    back = pickle.loads(pickle.dumps(nn))
    np.testing.assert_array_equal(back.kneighbors(Q)[1], ref[1])
    path = tmp_path / "nn.joblib"
    joblib.dump(nn, path)
    loaded = joblib.load(path, mmap_mode="r")
    assert not loaded.tree_.arrays.points.flags.writeable
    np.testing.assert_array_equal(loaded.kneighbors(Q)[1], ref[1])
    loaded.partial_fit(Q)  # read-only fitted arrays can still grow (new arrays)
    assert loaded.n_samples_fit_ == 460


def test_n_jobs_respects_joblib_and_threadpool_context():
    import numba
    from threadpoolctl import threadpool_limits

    top = numba.config.NUMBA_NUM_THREADS
    assert query_threads(1) == 1
    assert query_threads(-1) == top
    assert query_threads(None) == top
    with joblib.parallel_backend("threading", n_jobs=1):
        assert query_threads(None) == 1
    with threadpool_limits(limits=1, user_api="openmp"):
        # only binding when an OpenMP runtime is loaded in the process
        assert query_threads(None) in (1, top)
    with pytest.raises(ValueError, match="n_jobs"):
        CoverTreeNeighbors(n_jobs=0).fit(np.zeros((3, 2)))


def test_transformer_feeds_precomputed_estimators():
    X, y = load_digits(return_X_y=True)
    X, y = X[:600], y[:600]
    for weights in ("uniform", "distance"):
        pipe = make_pipeline(CoverTreeKNeighborsTransformer(n_neighbors=5, mode="distance"),
                             KNeighborsClassifier(5, metric="precomputed", weights=weights))
        ours = cross_val_score(pipe, X, y, cv=3)
        ref = cross_val_score(KNeighborsClassifier(5, weights=weights), X, y, cv=3)
        np.testing.assert_allclose(ours, ref)
    # digits have many tied distances: compare the graphs' distances row by row
    G = CoverTreeKNeighborsTransformer(n_neighbors=10).fit_transform(X)
    R = KNeighborsTransformer(n_neighbors=10).fit_transform(X)
    np.testing.assert_array_equal(G.indptr, R.indptr)
    np.testing.assert_allclose(G.data, R.data, rtol=1e-10, atol=1e-9)
    assert np.all(G.diagonal() == 0) and G.nnz == 11 * X.shape[0]
    # tie-free data: identical graphs, identical DBSCAN labels
    Xc = np.random.default_rng(0).normal(size=(800, 3))
    G = CoverTreeKNeighborsTransformer(n_neighbors=40).fit_transform(Xc)
    R = KNeighborsTransformer(n_neighbors=40).fit_transform(Xc)
    np.testing.assert_array_equal(G.indices, R.indices)
    np.testing.assert_allclose(G.data, R.data, rtol=1e-10, atol=1e-12)
    labels = DBSCAN(eps=0.3, min_samples=5, metric="precomputed").fit_predict(G)
    ref_labels = DBSCAN(eps=0.3, min_samples=5).fit_predict(Xc)
    np.testing.assert_array_equal(labels, ref_labels)
    emb = Isomap(n_neighbors=10, metric="precomputed").fit_transform(
        CoverTreeKNeighborsTransformer(n_neighbors=10).fit_transform(Xc[:300]))
    ref_emb = Isomap(n_neighbors=10).fit_transform(Xc[:300])
    np.testing.assert_allclose(np.abs(emb), np.abs(ref_emb), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("weights", ["uniform", "distance", lambda d: np.exp(-d)])
def test_classifier_matches_sklearn(weights):
    X, y = load_digits(return_X_y=True)
    Xtr, ytr, Xte, yte = X[:1200], y[:1200], X[1200:], y[1200:]
    ours = CoverTreeKNeighborsClassifier(5, weights=weights).fit(Xtr, ytr)
    ref = KNeighborsClassifier(5, weights=weights, algorithm="brute").fit(Xtr, ytr)
    np.testing.assert_allclose(ours.predict_proba(Xte), ref.predict_proba(Xte), atol=1e-12)
    np.testing.assert_array_equal(ours.predict(Xte), ref.predict(Xte))
    assert ours.score(Xte, yte) == ref.score(Xte, yte)


def test_classifier_partial_fit_with_classes():
    X, y = load_digits(return_X_y=True)
    clf = CoverTreeKNeighborsClassifier(3)
    clf.partial_fit(X[:100], y[:100], classes=np.arange(10))
    clf.partial_fit(X[100:500], y[100:500])
    ref = KNeighborsClassifier(3, algorithm="brute").fit(X[:500], y[:500])
    np.testing.assert_array_equal(clf.predict(X[500:700]), ref.predict(X[500:700]))
    bad = CoverTreeKNeighborsClassifier(3).partial_fit(X[:20], np.zeros(20, int))
    with pytest.raises(ValueError, match="not in classes"):
        bad.partial_fit(X[20:30], np.ones(10, int))
    assert bad.n_samples_fit_ == 20


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_regressor_matches_sklearn(weights):
    X, y = make_regression(n_samples=700, n_features=6, noise=1.0, random_state=0)
    ours = CoverTreeKNeighborsRegressor(6, weights=weights).fit(X[:500], y[:500])
    ref = KNeighborsRegressor(6, weights=weights, algorithm="brute").fit(X[:500], y[:500])
    np.testing.assert_allclose(ours.predict(X[500:]), ref.predict(X[500:]), rtol=1e-10)
    assert ours.score(X[500:], y[500:]) == pytest.approx(ref.score(X[500:], y[500:]))
    part = CoverTreeKNeighborsRegressor(6, weights=weights).partial_fit(X[:200], y[:200])
    part.partial_fit(X[200:500], y[200:500])
    np.testing.assert_allclose(part.predict(X[500:]), ref.predict(X[500:]), rtol=1e-10)


def test_grid_search_over_strategies_in_pipeline():
    X, y = load_digits(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), CoverTreeKNeighborsClassifier())
    grid = GridSearchCV(
        pipe,
        {"covertreekneighborsclassifier__conflict_graph": ["segmented", "grid"],
         "covertreekneighborsclassifier__batch_order": ["random", "hilbert"],
         "covertreekneighborsclassifier__n_neighbors": [3, 5]},
        cv=2, n_jobs=2,
    )
    grid.fit(X[:600], y[:600])
    scores = grid.cv_results_["mean_test_score"]
    # strategies never change answers: scores depend only on n_neighbors
    ks = np.array(grid.cv_results_["param_covertreekneighborsclassifier__n_neighbors"])
    for k in (3, 5):
        assert np.ptp(scores[ks == k]) == 0
