"""The Chebyshev (infinity, L-inf) metric: ``max(|a - b|)``.

A Minkowski distance with ``p = inf``: a true metric whose value is the
largest coordinate difference (the grid conflict graph and the Hilbert order
apply). Parameters: ``(n_features,)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .base import Metric, kernel_class, power_of, width_params

NAME = "chebyshev"

#: Kernel-side identity of the metric (see :mod:`.base`).
ChebyshevRows = kernel_class("ChebyshevRows", __name__)


@njit(cache=True)
def distance(params, a, b):
    """Chebyshev distance between two 1-D rows (compiled)."""
    m = 0.0
    for t in range(a.shape[0]):
        diff = abs(a[t] - b[t])
        if diff > m:
            m = diff
    return m


def reference(params: tuple[float, ...], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise distances between ``a`` and ``b``, broadcast against each other."""
    shape = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    m = np.zeros(shape, np.float64)
    for t in range(a.shape[-1]):
        m = np.maximum(m, np.abs(a[..., t] - b[..., t]))
    return m


METRIC = Metric(name=NAME, kernel_class=ChebyshevRows, has_coordinates=True, is_true_metric=True,
                reference=reference, compiled=distance, make_params=width_params,
                coordinate_bound=True, scale_power=power_of(1.0))
