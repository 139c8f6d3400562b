"""Shared pieces of the metrics that store Euclidean rows (the tree stays Euclidean).

Each such metric maps user rows to Euclidean rows (``prepare``) and, where
the reported distance is a monotone function of the Euclidean one, converts
distances (``to_user``) and radii (``radius_to_stored``). The tree, its
kernels and the invariant checker then see the Euclidean metric: nothing
is compiled for them beyond the Euclidean kernels.
"""

from __future__ import annotations

import numpy as np

from . import euclidean
from .base import Metric, power_of


def euclidean_rows_metric(name: str, *, make_params, prepare, to_user=None,
                          radius_to_stored=None, homogeneous: bool = False) -> Metric:
    """A :class:`~.base.Metric` on stored Euclidean rows (kernels and reference shared).

    ``homogeneous``: ``prepare`` is homogeneous of degree 1 (a linear map),
    so the rows are rescaled like Euclidean ones (``scale_power`` 2); False
    for scale-invariant rows (unit rows of cosine and correlation).
    """
    extra = {}
    if homogeneous:
        extra["scale_power"] = power_of(2.0)
    if to_user is not None:
        extra["to_user"] = to_user
    if radius_to_stored is not None:
        extra["radius_to_stored"] = radius_to_stored
    return Metric(name=name, kernel_class=euclidean.EuclideanRows, has_coordinates=True,
                  is_true_metric=True, reference=euclidean.reference,
                  compiled=euclidean.distance, make_params=make_params, prepare=prepare,
                  coordinate_bound=True, **extra)


def row_exponents(X: np.ndarray) -> np.ndarray:
    """Per row, the binary exponent ``m`` of its largest magnitude (0 for a zero row)."""
    top = np.max(np.abs(X), axis=1) if X.shape[0] else np.zeros(0)
    return np.frexp(top)[1]


def unit_rows(X: np.ndarray, what: str) -> np.ndarray:
    """Rows divided by their Euclidean norms; ``ValueError`` for a zero row.

    Each row is first scaled by a power of two that brings its largest
    magnitude to [1/2, 1) (exact, and the direction is unchanged), so the
    squares of the norm neither overflow (rows near 1e300) nor underflow
    (rows near 1e-300).
    """
    X = np.ldexp(X, -row_exponents(X)[:, None])
    norms = np.sqrt(np.einsum("ij,ij->i", X, X))
    zero = np.flatnonzero(~(norms > 0))
    if zero.size:
        raise ValueError(
            f"the {what} distance is undefined for row {int(zero[0])}, whose norm is 0 "
            f"({zero.size} such rows); scikit-learn gives such rows distance 1 to every row, "
            "itself included, which is not a metric: drop or perturb them")
    return np.ascontiguousarray(X / norms[:, None])
