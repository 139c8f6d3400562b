"""Mahalanobis, standardised Euclidean and squared Euclidean, through Euclidean rows.

* ``mahalanobis`` with ``VI`` (or ``V``, whose inverse is taken):
  ``sqrt((a - b)^T VI (a - b))``. With ``VI = Q diag(lam) Q^T`` (symmetric,
  positive semi-definite), it is the Euclidean distance of the rows
  ``x Q diag(sqrt(lam))``, which the tree stores: a true metric (a
  pseudometric when ``VI`` is singular).
* ``seuclidean`` with ``V`` (one variance per feature):
  ``sqrt(sum((a - b)^2 / V))``, the Euclidean distance of ``x / sqrt(V)``.
* ``sqeuclidean``: ``|a - b|^2`` is not a metric, but it is the square of
  one: the tree searches Euclidean distances and reports their squares
  (radii ``r`` searched as ``sqrt(r)``).

On the stored rows the grid conflict graph and the Hilbert order apply.
``V`` / ``VI`` are required (as scikit-learn's ``BallTree`` requires them):
computing them from the data would make the metric depend on each query batch.
"""

from __future__ import annotations

import numpy as np

from ._chord import euclidean_rows_metric
from .base import width_params

NAME = "mahalanobis"
SEUCLIDEAN = "seuclidean"
SQEUCLIDEAN = "sqeuclidean"


def _square_matrix(value: object, name: str, n: int) -> np.ndarray:
    M = np.asarray(value, dtype=np.float64)
    if M.shape != (n, n) or not np.all(np.isfinite(M)):
        raise ValueError(f"mahalanobis {name} must be a finite ({n}, {n}) matrix, "
                         f"got shape {M.shape}")
    if not np.allclose(M, M.T, rtol=1e-10, atol=1e-12 * np.abs(M).max(initial=0.0)):
        raise ValueError(f"mahalanobis {name} must be symmetric")
    return (M + M.T) / 2


def make_params_mahalanobis(n_columns: int, *, VI: object = None,
                            V: object = None) -> tuple[float, ...]:
    """``(d, T...)``: ``T`` (d x d, row-major) maps user rows to stored rows ``x T``.

    Raises
    ------
    ValueError
        Without ``VI`` or ``V``, with both, or if the matrix is not a finite,
        symmetric, positive semi-definite ``(d, d)`` matrix (``V``: definite).
    """
    if (VI is None) == (V is None):
        raise ValueError("the mahalanobis metric needs metric_params={'VI': ...} (the inverse "
                         "covariance) or {'V': ...} (the covariance), exactly one of them")
    if VI is None:
        V = _square_matrix(V, "V", n_columns)
        try:
            VI = np.linalg.inv(V)
        except np.linalg.LinAlgError as exc:
            raise ValueError("mahalanobis V is singular; pass VI instead") from exc
        VI = (VI + VI.T) / 2
    else:
        VI = _square_matrix(VI, "VI", n_columns)
    lam, Q = np.linalg.eigh(VI)
    if lam.min(initial=0.0) < -1e-10 * max(abs(lam).max(initial=0.0), 1e-300):
        raise ValueError("mahalanobis VI must be positive semi-definite (a negative "
                         "eigenvalue makes the distance imaginary)")
    T = Q * np.sqrt(np.maximum(lam, 0.0))
    return (float(n_columns), *map(float, T.ravel()))


def prepare_mahalanobis(X: np.ndarray, params: tuple[float, ...]) -> np.ndarray:
    """``X T``."""
    d = int(params[0])
    T = np.asarray(params[1:], dtype=np.float64).reshape(d, d)
    return np.ascontiguousarray(X @ T)


def make_params_seuclidean(n_columns: int, *, V: object = None) -> tuple[float, ...]:
    """``(d, 1 / sqrt(V)...)``; ``ValueError`` unless ``V`` is d positive variances."""
    if V is None:
        raise ValueError("the seuclidean metric needs metric_params={'V': variances}, one "
                         "positive variance per feature")
    V = np.asarray(V, dtype=np.float64).ravel()
    if V.shape[0] != n_columns or not np.all(np.isfinite(V)) or np.any(V <= 0):
        raise ValueError(f"seuclidean V must be {n_columns} finite variances > 0, "
                         f"got shape {V.shape}")
    return (float(n_columns), *map(float, 1.0 / np.sqrt(V)))


def prepare_seuclidean(X: np.ndarray, params: tuple[float, ...]) -> np.ndarray:
    """``X / sqrt(V)``."""
    return np.ascontiguousarray(X * np.asarray(params[1:], dtype=np.float64))


def _same(X: np.ndarray, params: tuple[float, ...]) -> np.ndarray:
    return X


def squared(d: np.ndarray, params: tuple[float, ...]) -> np.ndarray:
    """Euclidean -> squared Euclidean."""
    d = np.asarray(d)
    return d * d


def root(r: np.ndarray, params: tuple[float, ...]) -> np.ndarray:
    """Squared radius -> Euclidean radius."""
    return np.sqrt(np.maximum(np.asarray(r, dtype=np.float64), 0.0))


METRIC = euclidean_rows_metric(NAME, make_params=make_params_mahalanobis,
                               prepare=prepare_mahalanobis,
                               homogeneous=True)
SEUCLIDEAN_METRIC = euclidean_rows_metric(SEUCLIDEAN, make_params=make_params_seuclidean,
                                          prepare=prepare_seuclidean,
                                          homogeneous=True)
SQEUCLIDEAN_METRIC = euclidean_rows_metric(SQEUCLIDEAN, make_params=width_params,
                                           prepare=_same, to_user=squared,
                                           radius_to_stored=root, homogeneous=True)
