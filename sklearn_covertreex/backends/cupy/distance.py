"""The metric seam of the CUDA kernels: Euclidean rows, summed feature by feature.

As in the numba and numpy kernels, the squares are accumulated in feature
order in float64 and no multiply-add is fused: each square passes through
``max(square, 0.0)`` (a no-op on finite data), without which NVVM contracts
the multiply and the next add into one ``fma.rn.f64`` (checked in the PTX
for sm_90), whose single rounding differs from numba's two in the last bit
and would break ties differently. The square root is ``sqrt.rn``, correctly
rounded, so distances equal numba's bit for bit.
"""

from __future__ import annotations

import math

from numba import cuda

from ...metrics.base import KernelMetric
from ..contract import check_euclidean_rows


def check_width(metric: KernelMetric, width: int) -> None:
    """Raise ``ValueError`` unless the metric is Euclidean and rows are ``params[0]`` wide."""
    check_euclidean_rows(metric, width, "cupy")


@cuda.jit(device=True)
def row_dist(a, i, b, j):
    """Euclidean distance between row ``i`` of ``a`` and row ``j`` of ``b``."""
    s = 0.0
    for t in range(a.shape[1]):
        diff = a[i, t] - b[j, t]
        s += max(diff * diff, 0.0)
    return math.sqrt(s)
