"""The metric seam of the numba kernels: one compiled distance per metric, chosen by type.

Kernels receive a kernel metric (an instance of its metric's namedtuple
class, see :mod:`sklearn_covertreex.metrics.base`) and call :func:`_dist` /
:func:`_row_dist`. :func:`rows_distance` is resolved when a kernel is
compiled: the argument's class names the metric, whose compiled distance is
looked up in :data:`sklearn_covertreex.metrics.METRICS` (or, for a metric
of the user's own, in :mod:`sklearn_covertreex.metrics.user`). Each kernel is thus
compiled once per metric it is used with, with no branch per evaluation
(a runtime branch between metrics kept the distances from inlining and made
Euclidean queries about twice as slow). :func:`rows` is what makes a kernel
refuse rows of another metric: ``params[0]`` is the row width.
"""

from __future__ import annotations

from numba import njit
from numba.core.errors import TypingError
from numba.extending import overload

from ...metrics import METRICS
from ...metrics.user import compiled_distance
from ..contract import check_row_width

#: kernel-metric class -> compiled distance of its metric
_COMPILED = {METRICS.get(name).kernel_class: METRICS.get(name).compiled for name in METRICS}


def rows_distance(metric, a, b):
    """Distance between the 1-D rows ``a`` and ``b`` under ``metric`` (compiled only)."""
    raise NotImplementedError


@overload(rows_distance)
def _rows_distance(metric, a, b):
    cls = getattr(metric, "instance_class", None)
    compiled = _COMPILED.get(cls)
    if compiled is None:  # a metric of the user's own (made before the kernel compiles)
        compiled = compiled_distance(cls)
    if compiled is None:
        raise TypingError(f"no compiled distance for the metric type {metric}: "
                          "pass Metric.kernel(params) of a registered metric")

    def impl(metric, a, b):
        return compiled(metric.params, a, b)
    return impl


@njit(cache=True)
def _dist(metric, x, points, j):
    """Distance between the row ``x`` and row ``j`` of ``points``."""
    return rows_distance(metric, x, points[j])


@njit(cache=True)
def _row_dist(metric, a, i, b, j):
    """Distance between row ``i`` of ``a`` and row ``j`` of ``b``."""
    return rows_distance(metric, a[i], b[j])


def rows(metric, a):
    """``a`` as a read-only view, after checking it holds rows of ``metric`` (``ValueError``).

    Every kernel receives its row arrays through this, so each compiled
    distance sees one array layout (read-only) wherever the rows come from
    (a frozen tree, a builder, the user's queries) and is compiled once,
    not once per combination.
    """
    check_row_width(metric, a.shape[-1])
    view = a.view()
    view.flags.writeable = False
    return view
