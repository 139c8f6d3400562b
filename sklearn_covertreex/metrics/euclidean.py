"""The Euclidean metric: ``sqrt(sum((a - b) ** 2))``, summed feature by feature.

The squares are accumulated in feature order (no GEMM expansion), in the
compiled distance and in the numpy reference alike, so both agree bit for
bit. Parameters: ``(n_features,)``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .base import Metric, kernel_class, power_of

NAME = "euclidean"

#: Kernel-side identity of the metric (see :mod:`.base`).
EuclideanRows = kernel_class("EuclideanRows", __name__)


@njit(cache=True)
def distance(params, a, b):
    """Euclidean distance between two 1-D rows (compiled)."""
    s = 0.0
    for t in range(a.shape[0]):
        diff = a[t] - b[t]
        s += diff * diff
    return math.sqrt(s)


def reference(params: tuple[float, ...], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise distances between ``a`` and ``b``, broadcast against each other."""
    dtype = np.result_type(a.dtype, b.dtype)
    a = np.asarray(a, dtype=dtype)
    b = np.asarray(b, dtype=dtype)
    shape = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    s = np.zeros(shape, np.float64)
    for t in range(a.shape[-1]):
        diff = a[..., t] - b[..., t]
        s += diff * diff
    return np.sqrt(s)


def make_params(n_columns: int) -> tuple[float, ...]:
    """``(n_columns,)``: the row width is the number of features."""
    return (float(n_columns),)


METRIC = Metric(name=NAME, kernel_class=EuclideanRows, has_coordinates=True, is_true_metric=True,
                reference=reference, compiled=distance, make_params=make_params,
                coordinate_bound=True, scale_power=power_of(2.0))
