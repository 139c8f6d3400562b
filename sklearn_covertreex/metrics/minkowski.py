"""The Minkowski metric ``(sum(w * |a - b| ** p)) ** (1 / p)`` for any ``p >= 1``.

For ``p >= 1`` it is a true metric (Minkowski's inequality); for ``p < 1``
the triangle inequality fails and the metric is refused. Weights ``w >= 0``
are folded into the stored rows (``prepare`` scales feature ``t`` by
``w[t] ** (1 / p)``), so the compiled distance is the unweighted one and
every coordinate difference of stored rows is at most the distance (the
grid conflict graph and the Hilbert order apply). Parameters:
``(n_features, p, scale_1, ..., scale_d)``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numba import njit

from .base import Metric, kernel_class

NAME = "minkowski"

#: Kernel-side identity of the metric (see :mod:`.base`).
MinkowskiRows = kernel_class("MinkowskiRows", __name__)


@njit(cache=True)
def distance(params, a, b):
    """Minkowski distance of order ``params[1]`` between two 1-D rows (compiled)."""
    p = params[1]
    s = 0.0
    ip = int(p)
    if ip == p:  # an integer power is a few multiplications, not a pow call
        for t in range(a.shape[0]):
            s += abs(a[t] - b[t]) ** ip
    else:
        for t in range(a.shape[0]):
            s += abs(a[t] - b[t]) ** p
    return s ** (1.0 / p)


def reference(params: tuple[float, ...], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise distances between ``a`` and ``b``, broadcast against each other."""
    p = params[1]
    shape = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    s = np.zeros(shape, np.float64)
    for t in range(a.shape[-1]):
        s += np.abs(a[..., t] - b[..., t]) ** p
    return s ** (1.0 / p)


def check_p(p: object) -> float:
    """A real ``p >= 1`` (finite: ``p = inf`` is the Chebyshev metric)."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or math.isnan(p):
        raise ValueError(f"minkowski needs a real p >= 1, got p={p!r}")
    if p < 1:
        raise ValueError(f"minkowski with p={p!r} < 1 is not a metric (the triangle "
                         "inequality fails), so a tree cannot serve it exactly; use p >= 1")
    return float(p)


def make_params(n_columns: int, *, p: float = 2.0, w: object = None) -> tuple[float, ...]:
    """``(n_columns, p, w ** (1 / p)...)`` (unit scales when ``w`` is None).

    Raises
    ------
    ValueError
        For ``p < 1``, ``p = inf`` with weights, or weights that are not
        ``n_columns`` finite non-negative numbers.
    """
    p = check_p(p)
    if w is None:
        scale = np.ones(n_columns)
    else:
        if math.isinf(p):
            raise ValueError("weighted minkowski with p=inf is not supported; "
                             "scale the columns instead")
        w = np.asarray(w, dtype=np.float64).ravel()
        if w.shape[0] != n_columns or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"minkowski weights w must be {n_columns} finite numbers >= 0, "
                             f"got shape {w.shape}")
        scale = w ** (1.0 / p)
    if math.isinf(p):
        raise ValueError("minkowski with p=inf is the 'chebyshev' metric")
    return (float(n_columns), p, *map(float, scale))


def prepare(X: np.ndarray, params: tuple[float, ...]) -> np.ndarray:
    """Rows scaled by ``w ** (1 / p)`` (a copy unless every weight is 1)."""
    scale = np.asarray(params[2:], dtype=np.float64)
    if np.all(scale == 1.0):
        return X
    return np.ascontiguousarray(X * scale)


def minkowski_power(params: tuple[float, ...]) -> float:
    """``p``: the power the compiled distance raises differences to (rows rescale by it)."""
    return params[1]


METRIC = Metric(name=NAME, kernel_class=MinkowskiRows, has_coordinates=True, is_true_metric=True,
                reference=reference, compiled=distance, make_params=make_params,
                prepare=prepare, coordinate_bound=True, scale_power=minkowski_power)
