"""The metric seam of the numba kernels: one compiled distance for every metric.

Kernels receive a kernel metric ``metric = (code, params)`` and call
:func:`_dist` / :func:`_row_dist`; :func:`rows_distance` branches once on
the code to the metric module's compiled distance (a new metric adds one
line there and one in :data:`CODES`). :func:`check_width` is what makes a
kernel refuse rows of another metric: ``params[0]`` is the row width.
"""

from __future__ import annotations

import math

from numba import njit

from ...metrics import euclidean
from ...metrics.residual import metric as residual

#: The metric codes these kernels know.
CODES = (euclidean.CODE, residual.CODE)


@njit(cache=True)
def rows_distance(metric, a, b):
    """Distance between the 1-D rows ``a`` and ``b`` under ``metric = (code, params)``."""
    code, params = metric
    if code == euclidean.CODE:
        return euclidean.distance(params, a, b)
    if code == residual.CODE:
        return residual.distance(params, a, b)
    return math.nan  # unreachable: check_width refuses unknown codes


@njit(cache=True)
def _dist(metric, x, points, j):
    """Distance between the row ``x`` and row ``j`` of ``points``."""
    return rows_distance(metric, x, points[j])


@njit(cache=True)
def _row_dist(metric, a, i, b, j):
    """Distance between row ``i`` of ``a`` and row ``j`` of ``b``."""
    return rows_distance(metric, a[i], b[j])


@njit(cache=True)
def check_width(metric, width):
    """Raise ``ValueError`` unless the code is known and rows are ``params[0]`` wide."""
    code, params = metric
    known = False
    for c in CODES:
        if code == c:
            known = True
    if not known:
        raise ValueError("unknown metric code: these kernels do not implement this metric")
    if params.shape[0] < 1 or width != int(params[0]):
        raise ValueError(
            "rows do not have the width the metric's parameters give: "
            "rows of another metric, or parameters of another tree"
        )
