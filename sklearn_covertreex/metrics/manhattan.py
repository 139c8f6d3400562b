"""The Manhattan (cityblock, L1) metric: ``sum(|a - b|)``, summed feature by feature.

A Minkowski distance with ``p = 1``: a true metric, and every coordinate
difference is at most the distance (the grid conflict graph and the Hilbert
order apply). Parameters: ``(n_features,)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .base import Metric, kernel_class, power_of, width_params

NAME = "manhattan"

#: Kernel-side identity of the metric (see :mod:`.base`).
ManhattanRows = kernel_class("ManhattanRows", __name__)


@njit(cache=True)
def distance(params, a, b):
    """Manhattan distance between two 1-D rows (compiled)."""
    s = 0.0
    for t in range(a.shape[0]):
        s += abs(a[t] - b[t])
    return s


def reference(params: tuple[float, ...], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise distances between ``a`` and ``b``, broadcast against each other."""
    shape = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    s = np.zeros(shape, np.float64)
    for t in range(a.shape[-1]):
        s += np.abs(a[..., t] - b[..., t])
    return s


METRIC = Metric(name=NAME, kernel_class=ManhattanRows, has_coordinates=True, is_true_metric=True,
                reference=reference, compiled=distance, make_params=width_params,
                coordinate_bound=True, scale_power=power_of(1.0))
