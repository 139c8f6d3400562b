"""The Canberra distance ``sum(|a - b| / (|a| + |b|))`` (terms with ``|a| + |b| = 0`` are 0).

Each term is a metric on the real line (``|x - y| / (|x| + |y|)`` satisfies
the triangle inequality), so the sum is a true metric, as scikit-learn and
scipy compute it. A coordinate difference is not bounded by it (terms are at
most 1): the grid conflict graph and the Hilbert batch order are refused.
Parameters: ``(n_features,)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .base import Metric, kernel_class, width_params

NAME = "canberra"

#: Kernel-side identity of the metric (see :mod:`.base`).
CanberraRows = kernel_class("CanberraRows", __name__)


@njit(cache=True)
def distance(params, a, b):
    """Canberra distance between two 1-D rows (compiled)."""
    s = 0.0
    for t in range(a.shape[0]):
        denom = abs(a[t]) + abs(b[t])
        if denom > 0:
            s += abs(a[t] - b[t]) / denom
    return s


def reference(params: tuple[float, ...], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise distances between ``a`` and ``b``, broadcast against each other."""
    shape = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    s = np.zeros(shape, np.float64)
    for t in range(a.shape[-1]):
        num = np.abs(a[..., t] - b[..., t])
        denom = np.abs(a[..., t]) + np.abs(b[..., t])
        s += np.where(denom > 0, num / np.where(denom > 0, denom, 1.0), 0.0)
    return s


METRIC = Metric(name=NAME, kernel_class=CanberraRows, has_coordinates=True, is_true_metric=True,
                reference=reference, compiled=distance, make_params=width_params)
