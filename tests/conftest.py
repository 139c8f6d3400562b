"""Shared test helpers: numpy brute force and exactness assertions."""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "ci", deadline=None, max_examples=25, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("ci" if os.environ.get("CI") else "default")

RTOL = 1e-10


def brute_distances(X: np.ndarray, Q: np.ndarray, exponent: int = 0) -> np.ndarray:
    """Exact float64 distance matrix, sqrt of summed squared differences.

    ``exponent``: compute on ``X * 2**exponent`` and ``Q * 2**exponent`` and
    divide by ``2**exponent`` (exact), the documented answer of a tree that
    stored its rows rescaled so (``TreeArrays.scale_exponent``): at 1e-280
    the squares of the unscaled differences would underflow. A query row
    whose scaled differences would overflow the squares is computed at a
    lower power of two instead, as the tree shifts such query batches.
    """
    X = np.asarray(X, dtype=np.float64)
    Q = np.asarray(Q, dtype=np.float64)
    out = np.empty((Q.shape[0], X.shape[0]))
    for i in range(Q.shape[0]):
        diff = X - Q[i]
        top = float(np.abs(diff).max(initial=0.0))
        expo = exponent
        if top > 0 and np.frexp(top)[1] + exponent > 500:
            expo = -int(np.frexp(top)[1])
        unit = np.ldexp(diff, expo)
        out[i] = np.ldexp(np.sqrt(np.einsum("ij,ij->i", unit, unit)), -expo)
    return out


def assert_knn_exact(X, Q, k, dist, ind, ids=None, exponent=0):
    """(dist, ind) is an exact k-NN answer: the right distances, valid ids, no repeats.

    ``ids`` maps rows of X to dataset ids (default: row numbers);
    ``exponent`` is the tree's scale exponent (see :func:`brute_distances`).
    """
    X = np.asarray(X, dtype=np.float64)
    ids = np.arange(X.shape[0]) if ids is None else np.asarray(ids)
    D = brute_distances(X, Q, exponent)
    ref = np.sort(D, axis=1)[:, :k]
    assert dist.shape == (Q.shape[0], k) and ind.shape == (Q.shape[0], k)
    assert dist.dtype == np.float64
    np.testing.assert_allclose(dist, ref, rtol=RTOL, atol=0)
    assert np.all(np.diff(dist, axis=1) >= 0), "rows must be sorted ascending"
    row_of = {int(v): r for r, v in enumerate(ids)}
    for q in range(Q.shape[0]):
        assert len(set(ind[q].tolist())) == k, "an id is repeated in a row"
        rows = np.array([row_of[int(v)] for v in ind[q]])
        np.testing.assert_allclose(D[q, rows], dist[q], rtol=RTOL, atol=0)


def assert_radius_exact(X, Q, r, indptr, dist, ind, ids=None, exponent=0):
    """CSR radius answer equals brute force (boundary cases within rounding)."""
    X = np.asarray(X, dtype=np.float64)
    ids = np.arange(X.shape[0]) if ids is None else np.asarray(ids)
    D = brute_distances(X, Q, exponent)
    r = np.broadcast_to(np.asarray(r, dtype=np.float64), (Q.shape[0],))
    for q in range(Q.shape[0]):
        got = ind[indptr[q] : indptr[q + 1]]
        gd = dist[indptr[q] : indptr[q + 1]]
        assert np.all(np.diff(gd) >= 0)
        assert len(set(got.tolist())) == got.size
        must = set(ids[D[q] <= r[q] * (1 - RTOL)].tolist())
        may = set(ids[D[q] <= r[q] * (1 + RTOL)].tolist())
        assert must <= set(got.tolist()) <= may


def metric_distances(X, Q, metric: str = "euclidean", **params) -> np.ndarray:
    """Brute-force distance matrix (n_queries, n_samples) under a named metric, from coordinates.

    An oracle independent of the package: scikit-learn's ``DistanceMetric``
    (what its ``BallTree`` computes) where it has the metric, else
    ``sklearn.metrics.pairwise_distances`` (cosine, correlation,
    sqeuclidean); boolean metrics get boolean rows, as scikit-learn gives
    them.
    """
    from sklearn.metrics import DistanceMetric, pairwise_distances

    X = np.asarray(X, dtype=np.float64)
    Q = np.asarray(Q, dtype=np.float64)
    if metric == "euclidean" and not params:
        return brute_distances(X, Q)
    if metric in ("cosine", "correlation", "sqeuclidean"):
        return pairwise_distances(Q, X, metric=metric, **params)
    if metric in ("jaccard", "rogerstanimoto", "sokalmichener", "sokalsneath"):
        Xb, Qb = X != 0, Q != 0
        out = DistanceMetric.get_metric(metric).pairwise(Qb, Xb)
        return np.nan_to_num(out, nan=0.0)  # sokalsneath of two all-false rows
    return DistanceMetric.get_metric(metric, **params).pairwise(Q, X)


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


#: The jax backend as a pytest parameter: skipped with a reason where jax is not installed.
import pytest  # noqa: E402

JAX = pytest.param("jax", marks=pytest.mark.skipif(
    not _importable("jax"), reason="needs jax: pip install 'sklearn_covertreex[jax]'"))
