"""The Hamming distance: the fraction of features where two rows differ.

``d(a, b) = #{t : a[t] != b[t]} / n_features``, as scikit-learn computes it
on any values (on booleans, on categories coded as numbers). A true metric
(the number of differing positions satisfies the triangle inequality), but
a coordinate difference is not bounded by it: the grid conflict graph and
the Hilbert batch order are refused. Parameters: ``(n_features,)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .base import Metric, kernel_class, width_params

NAME = "hamming"

#: Kernel-side identity of the metric (see :mod:`.base`).
HammingRows = kernel_class("HammingRows", __name__)


@njit(cache=True)
def distance(params, a, b):
    """Hamming distance between two 1-D rows (compiled)."""
    n = 0
    for t in range(a.shape[0]):
        if a[t] != b[t]:
            n += 1
    return n / params[0]


def reference(params: tuple[float, ...], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise distances between ``a`` and ``b``, broadcast against each other."""
    return np.count_nonzero(a != b, axis=-1) / params[0]


METRIC = Metric(name=NAME, kernel_class=HammingRows, has_coordinates=True, is_true_metric=True,
                reference=reference, compiled=distance, make_params=width_params)
