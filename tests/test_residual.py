"""ResidualCoverTreeNeighbors: exactness against a float64 numpy brute force."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.linalg as sla
from hypothesis import given
from hypothesis import strategies as st
from sklearn.gaussian_process.kernels import (
    RBF,
    ConstantKernel,
    Matern,
    RationalQuadratic,
    WhiteKernel,
)

from sklearn_covertreex import ResidualCoverTreeNeighbors, check_invariants
from sklearn_covertreex.metrics.residual import ResidualModel

#: Distances are compared through d^2 = 1 - |rho|: rho is a difference of two
#: terms of size ~1/p, so float64 rounding leaves ~1e-9 of absolute error.
D2_ATOL = 1e-7

FAST_KERNELS = [
    RBF(1.0),
    ConstantKernel(2.0) * RBF(0.3),
    RBF([0.5, 2.0]),
    Matern(0.7, nu=0.5),
    ConstantKernel(0.5) * Matern(1.3, nu=1.5),
    Matern([1.0, 0.4], nu=2.5) * ConstantKernel(3.0),
    Matern(1.0, nu=np.inf),
]
GENERIC_KERNELS = [
    RationalQuadratic(length_scale=0.8, alpha=1.5),
    ConstantKernel(1.0) * RBF(1.0) + WhiteKernel(1e-3),
]


def reference_distances(kernel, U, jitter, X, Q):
    """d(Q, X) straight from the definition, with the kernel's own __call__ / diag."""
    K = kernel(U, U)
    K = K + jitter * np.mean(kernel.diag(U)) * np.eye(U.shape[0])
    L = np.linalg.cholesky(K)
    VX = sla.solve_triangular(L, kernel(U, X), lower=True).T
    VQ = sla.solve_triangular(L, kernel(U, Q), lower=True).T
    pX = kernel.diag(X) - np.sum(VX**2, axis=1)
    pQ = kernel.diag(Q) - np.sum(VQ**2, axis=1)
    rho = (kernel(Q, X) - VQ @ VX.T) / np.sqrt(np.outer(pQ, pX))
    return np.sqrt(np.maximum(0.0, 1.0 - np.abs(rho)))


def assert_knn_matches(D, k, dist, ind, allowed=None):
    """Exact k-NN up to ties: sorted distances agree, each id has its distance."""
    D = np.where(allowed, D, np.inf) if allowed is not None else D
    n_q = D.shape[0]
    assert dist.shape == ind.shape == (n_q, k)
    ref = np.sort(D, axis=1)[:, :k]
    finite = np.isfinite(ref)
    assert np.array_equal(finite, np.isfinite(dist))
    assert np.all(ind[~finite] == -1)
    np.testing.assert_allclose(dist[finite] ** 2, ref[finite] ** 2, rtol=0, atol=D2_ATOL)
    for q in range(n_q):
        got = ind[q][ind[q] >= 0]
        assert len(set(got.tolist())) == got.size
        np.testing.assert_allclose(D[q, got] ** 2, dist[q, : got.size] ** 2, rtol=0,
                                   atol=D2_ATOL)
    with np.errstate(invalid="ignore"):
        steps = np.diff(dist, axis=1)
    assert np.all(steps[finite[:, 1:]] >= 0)


def assert_radius_matches(D, r, dist, ind):
    for q in range(D.shape[0]):
        got = set(ind[q].tolist())
        must = set(np.flatnonzero(D[q] ** 2 <= r**2 - D2_ATOL).tolist())
        may = set(np.flatnonzero(D[q] ** 2 <= r**2 + D2_ATOL).tolist())
        assert must <= got <= may
        np.testing.assert_allclose(D[q, ind[q]] ** 2, dist[q] ** 2, atol=D2_ATOL, rtol=0)
        assert np.all(np.diff(dist[q]) >= 0)


def _data(n=300, d=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def _fit(X, kernel, algorithm, m=40, **kw):
    est = ResidualCoverTreeNeighbors(n_neighbors=7, kernel=kernel, inducing_points=m,
                                     algorithm=algorithm, random_state=0, **kw)
    return est.fit(X)


def _check_all_queries(est, X, Q):
    U, kernel, jitter = est.inducing_points_, est.kernel_, est.jitter
    D = reference_distances(kernel, U, jitter, X, X)
    n = X.shape[0]
    not_self = ~np.eye(n, dtype=bool)
    dist, ind = est.kneighbors()
    assert_knn_matches(D, 7, dist, ind, allowed=not_self)
    dist, ind = est.kneighbors(Q, n_neighbors=5)
    assert_knn_matches(reference_distances(kernel, U, jitter, X, Q), 5, dist, ind)
    dist, ind = est.vecchia_neighbors(return_distance=True)
    assert_knn_matches(D, 7, dist, ind, allowed=np.tril(not_self))
    dist, ind = est.radius_neighbors(radius=0.45)
    assert_radius_matches(np.where(not_self, D, np.inf), 0.45, dist, ind)
    dist, ind = est.radius_neighbors(Q, radius=0.6)
    assert_radius_matches(reference_distances(kernel, U, jitter, X, Q), 0.6, dist, ind)


@pytest.mark.parametrize("algorithm", ["brute", "tree"])
@pytest.mark.parametrize("kernel", FAST_KERNELS, ids=repr)
def test_fast_kernels_exact(kernel, algorithm):
    X = _data()
    est = _fit(X, kernel, algorithm)
    assert est.index_.model.fast is not None
    _check_all_queries(est, X, _data(20, seed=1))
    if algorithm == "tree":
        check_invariants(est.index_.tree)


@pytest.mark.parametrize("kernel", GENERIC_KERNELS, ids=repr)
def test_generic_kernels_exact(kernel):
    X = _data(200)
    est = _fit(X, kernel, "auto")
    assert est.index_.model.fast is None
    _check_all_queries(est, X, _data(15, seed=2))


def test_tree_rejects_generic_kernel():
    with pytest.raises(ValueError, match="fast path"):
        _fit(_data(50), RationalQuadratic(), "tree")


def test_default_kernel_and_lengthscale_reach_every_path():
    X = _data(400)
    a = _fit(X, None, "brute").kneighbors()[1]
    b = _fit(X, ConstantKernel(1.0) * RBF(0.3), "brute").kneighbors()[1]
    assert str(_fit(X, None, "brute").kernel_) == str(ConstantKernel(1.0) * RBF(1.0))
    assert not np.array_equal(a, b)  # the length scale changes the answer


@pytest.mark.parametrize("algorithm", ["brute", "tree"])
def test_partial_fit_matches_fit(algorithm):
    X = _data(400)
    U = X[::10]
    full = ResidualCoverTreeNeighbors(n_neighbors=6, inducing_points=U,
                                      algorithm=algorithm).fit(X)
    part = ResidualCoverTreeNeighbors(n_neighbors=6, inducing_points=U, algorithm=algorithm)
    part.fit(X[:150]).partial_fit(X[150:300]).partial_fit(X[300:])
    assert part.n_samples_fit_ == 400
    d1, i1 = full.kneighbors()
    d2, i2 = part.kneighbors()
    np.testing.assert_allclose(d1**2, d2**2, atol=D2_ATOL)
    D = reference_distances(full.kernel_, U, full.jitter, X, X)
    assert_knn_matches(D, 6, d2, i2, allowed=~np.eye(400, dtype=bool))
    v1 = full.vecchia_neighbors(return_distance=True)[0]
    v2 = part.vecchia_neighbors(return_distance=True)[0]
    np.testing.assert_allclose(v1[np.isfinite(v1)] ** 2, v2[np.isfinite(v2)] ** 2,
                               atol=D2_ATOL)
    if algorithm == "tree":
        check_invariants(part.index_.tree)


def test_vecchia_padding_and_shape():
    X = _data(30)
    ind = _fit(X, None, "brute", m=5).vecchia_neighbors(n_neighbors=4)
    assert ind.shape == (30, 4) and ind.dtype == np.intp
    assert np.all(ind[0] == -1)
    assert np.array_equal(ind[1], [0, -1, -1, -1])
    assert np.all(ind[4] >= 0) and np.all(ind < np.arange(30)[:, None])
    dist, _ = _fit(X, None, "brute", m=5).vecchia_neighbors(4, return_distance=True)
    assert np.all(np.isinf(dist[0])) and np.isinf(dist[2, 2])


def test_float32_is_upcast():
    X = _data(200)
    a = _fit(X, None, "brute").kneighbors()
    b = _fit(X.astype(np.float32), None, "brute")
    assert b.inducing_points_.dtype == np.float64
    d32 = reference_distances(b.kernel_, b.inducing_points_, b.jitter,
                              X.astype(np.float32).astype(np.float64),
                              X.astype(np.float32).astype(np.float64))
    assert_knn_matches(d32, 7, *b.kneighbors(), allowed=~np.eye(200, dtype=bool))
    assert a[0].dtype == np.float64


def test_kmeanspp_selection_and_array_inducing_points():
    X = _data(300)
    est = _fit(X, None, "brute", m=25, inducing_selection="kmeans++")
    assert est.inducing_points_.shape == (25, 2)
    # every inducing point is a row of X
    assert all(np.any(np.all(X == u, axis=1)) for u in est.inducing_points_)
    capped = _fit(X[:10], None, "brute", m=512)
    assert capped.inducing_points_.shape == (10, 2)


def test_nonpositive_residual_variance_error():
    X = _data(50)
    est = ResidualCoverTreeNeighbors(inducing_points=X[:10], jitter=0.0)
    with pytest.raises(ValueError, match="residual variance p is not positive.*jitter"):
        est.fit(X)
    dup = np.vstack([X[:5], X[:1]])
    with pytest.raises(ValueError, match="not positive definite.*jitter"):
        ResidualCoverTreeNeighbors(inducing_points=dup, jitter=0.0).fit(X)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"kernel": "rbf"}, TypeError, "kernel must be"),
        ({"jitter": -1.0}, ValueError, "jitter"),
        ({"inducing_selection": "best"}, ValueError, "valid choices"),
        ({"algorithm": "ball_tree"}, ValueError, "valid choices"),
        ({"conflict_graph": "grid"}, ValueError, "needs coordinates.*'segmented'"),
        ({"batch_order": "hilbert"}, ValueError, "needs coordinates.*'random'"),
        ({"backend": "cuda"}, ValueError, "valid choices.*'jax'.*'cupy'"),
        ({"algorithm": "tree", "backend": "numpy"}, ValueError, "compiled kernels only"),
        ({"inducing_points": 0}, ValueError, "inducing_points"),
        ({"inducing_points": np.ones((3, 5))}, ValueError, "shape"),
        ({"inducing_points": "many"}, TypeError, "inducing_points"),
    ],
)
def test_bad_params_leave_state_untouched(params, error, match):
    X = _data(60)
    est = ResidualCoverTreeNeighbors(inducing_points=8, random_state=0).fit(X)
    index = est.index_
    est.set_params(**params)
    with pytest.raises(error, match=match):
        est.fit(X)
    assert est.index_ is index


def test_bad_partial_fit_leaves_state_untouched():
    X = _data(60)
    est = ResidualCoverTreeNeighbors(inducing_points=X[:10], jitter=0.0)
    with pytest.raises(ValueError):
        est.fit(X)
    est = ResidualCoverTreeNeighbors(inducing_points=X[:10], jitter=1e-6).fit(X[10:])
    index = est.index_
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(np.ones((3, 5)))
    assert est.index_ is index and est.n_samples_fit_ == 50


def test_pickle_round_trip():
    X = _data(120)
    est = _fit(X, Matern(0.5, nu=1.5), "tree")
    again = pickle.loads(pickle.dumps(est))
    for a, b in zip(est.kneighbors(), again.kneighbors(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_graphs():
    X = _data(100)
    est = _fit(X, None, "brute")
    G = est.kneighbors_graph(mode="distance")
    assert G.shape == (100, 100) and G.nnz == 700
    R = est.radius_neighbors_graph(radius=0.5)
    assert R.shape == (100, 100)


def test_triangle_inequality_random_triples():
    X = _data(300, d=3)
    est = _fit(X, ConstantKernel(1.0) * RBF(0.5), "brute", m=60)
    model: ResidualModel = est.index_.model
    P = est.index_.points
    D = model.distances(P, P)
    rng = np.random.default_rng(0)
    a, b, c = rng.integers(0, 300, size=(3, 20000))
    assert np.all(D[a, c] <= D[a, b] + D[b, c] + 1e-12)
    assert np.all((D >= 0) & (D <= 1))


_kernels = st.sampled_from(["rbf", "m12", "m32", "m52", "aniso", "generic"])


def _make_kernel(name, scale, d):
    if name == "rbf":
        return ConstantKernel(1.7) * RBF(scale)
    if name == "aniso":
        return RBF(np.linspace(0.5, 1.5, d) * scale)
    if name == "generic":
        return RationalQuadratic(length_scale=scale, alpha=0.7)
    nu = {"m12": 0.5, "m32": 1.5, "m52": 2.5}[name]
    return Matern(scale, nu=nu)


@given(
    n=st.integers(2, 250), d=st.integers(1, 4), name=_kernels,
    scale=st.floats(0.2, 3.0), m=st.integers(1, 40), k=st.integers(1, 8),
    dup=st.booleans(), seed=st.integers(0, 2**16), tree=st.booleans(),
)
def test_hypothesis_exact(n, d, name, scale, m, k, dup, seed, tree):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    if dup and n > 3:
        X[n // 2:] = X[: n - n // 2]  # every row duplicated
    kernel = _make_kernel(name, scale, d)
    algorithm = "tree" if tree and name != "generic" else "brute"
    est = ResidualCoverTreeNeighbors(n_neighbors=min(k, n - 1) if n > 1 else 1,
                                     kernel=kernel, inducing_points=m, jitter=1e-4,
                                     algorithm=algorithm, random_state=seed)
    est.fit(X)
    D = reference_distances(est.kernel_, est.inducing_points_, 1e-4, X, X)
    not_self = ~np.eye(n, dtype=bool)
    kk = est.n_neighbors
    if n > 1:
        assert_knn_matches(D, kk, *est.kneighbors(), allowed=not_self)
    assert_knn_matches(D, kk, *est.vecchia_neighbors(return_distance=True),
                       allowed=np.tril(not_self))
    Q = rng.normal(size=(5, d))
    assert_knn_matches(reference_distances(est.kernel_, est.inducing_points_, 1e-4, X, Q),
                       min(kk, n), *est.kneighbors(Q, n_neighbors=min(kk, n)))
    if tree and name != "generic":
        check_invariants(est.index_.tree)


def test_diagnostics_name_the_engine_and_why():
    X = _data(80)
    auto = _fit(X, None, "auto")
    assert auto.diagnostics_["algorithm"] == "brute"
    assert "auto" in auto.diagnostics_["reason"]
    tree = _fit(X, None, "tree")
    assert tree.diagnostics_["algorithm"] == "tree"
    assert tree.diagnostics_["tree"]["conflict_edges"] >= 0
    assert tree.index_.tree.metric == "residual_correlation"


def test_queries_do_not_change_the_estimator():
    X = _data(120)
    est = _fit(X, None, "tree")
    before = dict(est.__dict__)
    est.kneighbors()
    est.vecchia_neighbors()
    est.radius_neighbors(X[:5])
    assert est.__dict__.keys() == before.keys()
    assert all(est.__dict__[key] is before[key] for key in before)


def _adversarial(name):
    rng = np.random.default_rng(0)
    return {
        "all_equal": np.ones((40, 3)),
        "tiny_scale": rng.normal(size=(200, 3)) * 1e-3,
        "huge_scale": rng.normal(size=(200, 3)) * 1e3,
        "high_dim": rng.normal(size=(200, 20)),
        "one_point": rng.normal(size=(1, 3)),
        "two_points": rng.normal(size=(2, 3)),
        "lattice": np.stack(np.meshgrid(np.arange(6.0), np.arange(6.0), np.arange(3.0)),
                            -1).reshape(-1, 3),
    }[name]


@pytest.mark.parametrize("algorithm", ["brute", "tree"])
@pytest.mark.parametrize("name", ["all_equal", "tiny_scale", "huge_scale", "high_dim",
                                  "one_point", "two_points", "lattice"])
def test_adversarial_data(name, algorithm):
    """Massive ties (all equal, lattice, far-apart points), near-singular K, n = 1, 2."""
    X = _adversarial(name)
    n = X.shape[0]
    est = ResidualCoverTreeNeighbors(n_neighbors=min(5, max(1, n - 1)), inducing_points=16,
                                     algorithm=algorithm, random_state=0).fit(X)
    D = reference_distances(est.kernel_, est.inducing_points_, est.jitter, X, X)
    k = est.n_neighbors
    not_self = ~np.eye(n, dtype=bool)
    if n > 1:
        assert_knn_matches(D, k, *est.kneighbors(), allowed=not_self)
    else:
        with pytest.raises(ValueError, match="n_neighbors"):
            est.kneighbors()
    assert_knn_matches(D, k, *est.vecchia_neighbors(return_distance=True),
                       allowed=np.tril(not_self))
    if algorithm == "tree":
        check_invariants(est.index_.tree)


def _gpu_available() -> bool:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no cupy, no driver, no device
        return False


def _jax_available() -> bool:
    try:
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("backend", [
    "numpy",
    pytest.param("jax", marks=pytest.mark.skipif(not _jax_available(),
                                                 reason="needs jax (the 'jax' extra)")),
    pytest.param("cupy", marks=pytest.mark.skipif(not _gpu_available(),
                                                  reason="needs cupy and an NVIDIA GPU")),
])
@pytest.mark.parametrize("kernel", [FAST_KERNELS[1], FAST_KERNELS[5], GENERIC_KERNELS[0]],
                         ids=repr)
def test_array_backends_exact(backend, kernel):
    X = _data(300)
    est = _fit(X, kernel, "auto", backend=backend)
    assert est.diagnostics_["algorithm"] == f"brute-{backend}"
    _check_all_queries(est, X, _data(20, seed=1))
    compiled = _fit(X, kernel, "brute")
    np.testing.assert_allclose(est.kneighbors()[0] ** 2, compiled.kneighbors()[0] ** 2,
                               atol=D2_ATOL)


def test_array_backend_blocks_and_predecessor_padding():
    from sklearn_covertreex.engines.residual_array import knn_array

    X = _data(230)
    est = _fit(X, None, "brute")
    model, P = est.index_.model, est.index_.points
    for mode, ref in (("self", est.kneighbors()),
                      ("predecessors", est.vecchia_neighbors(return_distance=True))):
        d, i = knn_array(np, model, P, P, 7, mode, row_block=64, col_block=50)
        np.testing.assert_allclose(d[np.isfinite(d)] ** 2, ref[0][np.isfinite(ref[0])] ** 2,
                                   atol=D2_ATOL)
        assert np.array_equal(i < 0, ref[1] < 0)


@pytest.mark.skipif(not _jax_available(), reason="needs jax (the 'jax' extra)")
def test_jax_residual_blocks_predecessors_and_ties_match_compiled():
    from sklearn_covertreex.engines.residual_jax import knn_jax, radius_jax

    X = _data(230)
    est = _fit(X, None, "brute")
    model, P = est.index_.model, est.index_.points
    for mode, ref in (("self", est.kneighbors()),
                      ("predecessors", est.vecchia_neighbors(return_distance=True))):
        d, i = knn_jax(model, P, P, 7, mode, row_block=64, col_block=32)
        np.testing.assert_allclose(d[np.isfinite(d)] ** 2, ref[0][np.isfinite(ref[0])] ** 2,
                                   atol=D2_ATOL)
        assert np.array_equal(i < 0, ref[1] < 0)
    indptr, rd, ri = radius_jax(model, P, P, 0.4, exclude_self=True, row_block=64, col_block=32)
    ref = est.radius_neighbors(radius=0.4)
    assert np.array_equal(np.diff(indptr), [len(r) for r in ref[1]])
    import jax

    assert not jax.config.jax_enable_x64  # the float64 switch was scoped


def test_cupy_backend_missing_is_a_clear_import_error(monkeypatch):
    import builtins

    if _gpu_available():
        pytest.skip("cupy is installed here")
    real_import = builtins.__import__

    def no_cupy(name, *args, **kwargs):
        if name == "cupy":
            raise ImportError("No module named 'cupy'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cupy)
    with pytest.raises(ImportError, match=r"sklearn_covertreex\[cupy\]"):
        _fit(_data(30), None, "auto", backend="cupy")


@pytest.mark.parametrize("algorithm", ["brute", "tree"])
def test_a_few_thousand_points_anisotropic_matern(algorithm):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(3000, 3)) * [1.0, 2.0, 0.5]
    kernel = ConstantKernel(1.5) * Matern([0.4, 0.9, 0.3], nu=2.5)
    est = ResidualCoverTreeNeighbors(n_neighbors=12, kernel=kernel, inducing_points=96,
                                     inducing_selection="kmeans++", algorithm=algorithm,
                                     random_state=1).fit(X)
    D = reference_distances(est.kernel_, est.inducing_points_, est.jitter, X, X)
    not_self = ~np.eye(3000, dtype=bool)
    assert_knn_matches(D, 12, *est.kneighbors(), allowed=not_self)
    assert_knn_matches(D, 12, *est.vecchia_neighbors(return_distance=True),
                       allowed=np.tril(not_self))


def test_query_input_errors_leave_state_untouched():
    import scipy.sparse as sp

    X = _data(80)
    est = _fit(X, None, "brute")
    index = est.index_
    with pytest.raises(ValueError, match="features"):
        est.kneighbors(np.ones((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        est.kneighbors(np.array([[np.nan, 0.0]]))
    with pytest.raises(TypeError, match="sparse"):
        est.kneighbors(sp.csr_matrix(np.ones((2, 2))))
    with pytest.raises(ValueError, match="n_neighbors"):
        est.kneighbors(n_neighbors=80)
    assert est.index_ is index


def test_pandas_feature_names():
    pd = pytest.importorskip("pandas")
    X = _data(60)
    frame = pd.DataFrame(X, columns=["lat", "lon"])
    est = _fit(frame, None, "brute")
    assert list(est.feature_names_in_) == ["lat", "lon"]
    d1, i1 = est.kneighbors(frame.iloc[:3])
    d2, i2 = _fit(X, None, "brute").kneighbors(X[:3])
    np.testing.assert_array_equal(i1, i2)


@pytest.mark.parametrize("n_workers", [1, 3, 5])
def test_brute_engine_worker_counts(n_workers):
    """Private heaps of any number of workers merge to the exact answer."""
    from sklearn_covertreex.engines.residual_blocked import knn_blocked_self, vecchia_blocked

    X = _data(700)
    est = ResidualCoverTreeNeighbors(n_neighbors=6, inducing_points=40, random_state=0).fit(X)
    model, P = est.index_.model, est.index_.points
    D = reference_distances(est.kernel_, est.inducing_points_, est.jitter, X, X)
    not_self = ~np.eye(700, dtype=bool)
    d, i, _ = knn_blocked_self(model, P, 6, n_workers, tile=128)
    assert_knn_matches(D, 6, d, i, allowed=not_self)
    d, i, _ = vecchia_blocked(model, P, 6, n_workers, tile=128)
    assert_knn_matches(D, 6, d, i, allowed=np.tril(not_self))


def test_white_noise_enters_the_variances_not_the_inducing_covariance():
    from sklearn.gaussian_process.kernels import WhiteKernel

    X = _data(120)
    U = X[:12]
    noise = 0.5
    kernel = RBF(0.8) + WhiteKernel(noise)
    est = ResidualCoverTreeNeighbors(n_neighbors=6, kernel=kernel, inducing_points=U,
                                     jitter=1e-6).fit(X)
    model = est.index_.model
    K_uu = RBF(0.8)(U, U)  # noise-free: scikit-learn's k(U, U) with both sets given
    jitter = 1e-6 * (1.0 + noise)  # relative to k.diag(U), the noisy variance
    np.testing.assert_allclose(model.chol @ model.chol.T, K_uu + jitter * np.eye(12),
                               atol=1e-12)
    # reference: noisy-observation variances, noise-free cross covariances
    V = np.linalg.solve(model.chol, RBF(0.8)(U, X)).T
    p = 1.0 + noise - np.sum(V * V, axis=1)
    np.testing.assert_allclose(est.index_.points.p, p, rtol=1e-10)
    rho = (RBF(0.8)(X, X) - V @ V.T) / np.sqrt(np.outer(p, p))
    D = np.sqrt(1.0 - np.minimum(np.abs(rho), 1.0))
    not_self = ~np.eye(120, dtype=bool)
    assert_knn_matches(D, 6, *est.kneighbors(), allowed=not_self)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_rows_are_refused_even_with_assume_finite(bad):
    from sklearn import config_context

    X = _data(60)
    est = ResidualCoverTreeNeighbors(inducing_points=8, random_state=0).fit(X)
    Xbad = X.copy()
    Xbad[3, 1] = bad
    with config_context(assume_finite=True):
        with pytest.raises(ValueError, match="NaN or infinity"):
            ResidualCoverTreeNeighbors(inducing_points=X[:8]).fit(Xbad)
        with pytest.raises(ValueError, match="NaN or infinity"):
            est.kneighbors(Xbad[:5])
        with pytest.raises(ValueError, match="NaN or infinity"):
            est.partial_fit(Xbad[:5])
    assert est.n_samples_fit_ == 60
