"""The Canberra distance ``sum(|a - b| / (|a| + |b|))`` (terms with ``|a| + |b| = 0`` are 0).

Each term is a metric on the real line (``|x - y| / (|x| + |y|)`` satisfies
the triangle inequality), so the sum is a true metric, as scikit-learn and
scipy compute it. A coordinate difference is not bounded by it (terms are at
most 1): the grid conflict graph and the Hilbert batch order are refused.
Terms of coordinates near float64's largest value, whose ``|a| + |b|``
overflows, are computed on the halves (the same ratio, exactly), so every
finite input works. Parameters: ``(n_features,)``.
"""

from __future__ import annotations

import math

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
            if denom == math.inf:  # coordinates near float64's largest: the halves (exact)
                s += abs(0.5 * a[t] - 0.5 * b[t]) / (0.5 * abs(a[t]) + 0.5 * abs(b[t]))
            else:
                s += abs(a[t] - b[t]) / denom
    return s


def reference(params: tuple[float, ...], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise distances between ``a`` and ``b``, broadcast against each other."""
    shape = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    s = np.zeros(shape, np.float64)
    for t in range(a.shape[-1]):
        with np.errstate(over="ignore", invalid="ignore"):
            num = np.abs(a[..., t] - b[..., t])
            denom = np.abs(a[..., t]) + np.abs(b[..., t])
            # coordinates near float64's largest: the same ratio of the halves (exact)
            big = np.isinf(denom)
            num = np.where(big, np.abs(0.5 * a[..., t] - 0.5 * b[..., t]), num)
            denom = np.where(big, 0.5 * np.abs(a[..., t]) + 0.5 * np.abs(b[..., t]), denom)
        s += np.where(denom > 0, num / np.where(denom > 0, denom, 1.0), 0.0)
    return s


METRIC = Metric(name=NAME, kernel_class=CanberraRows, has_coordinates=True, is_true_metric=True,
                reference=reference, compiled=distance, make_params=width_params)
