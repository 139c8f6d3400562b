"""The metric seam of the numpy kernels.

The numpy tree kernels implement the Euclidean metric, the twin of the
numba kernels bit for bit (squares summed feature by feature in the same
order). Other metrics have compiled tree kernels only: the residual
correlation's numpy reference goes through numpy's ``exp``, which may
differ from the compiled one in the last bit, so the twin would no longer
take the same decisions. A kernel handed another metric raises.
"""

from __future__ import annotations

import numpy as np

from ...metrics import euclidean
from ...metrics.base import KernelMetric
from ..contract import check_euclidean_rows


def check_width(metric: KernelMetric, width: int) -> None:
    """Raise ``ValueError`` unless the metric is Euclidean and rows are ``params[0]`` wide."""
    check_euclidean_rows(metric, width, "numpy")


def _diff_dists(metric: KernelMetric, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise distances between ``a`` and ``b`` (broadcast against each other)."""
    return euclidean.reference(metric.params, a, b)


def _dist(metric: KernelMetric, x: np.ndarray, y: np.ndarray) -> float:
    """Distance between two rows, as a Python float."""
    return float(_diff_dists(metric, x, y))
