"""The metric seam of the numba kernels: one compiled distance per metric, chosen by type.

Kernels receive a kernel metric (an instance of its metric's namedtuple
class, see :mod:`sklearn_covertreex.metrics.base`) and call :func:`_dist` /
:func:`_row_dist`, resolved when a kernel is compiled: the argument's
class names the metric, whose compiled distance is looked up in
:data:`sklearn_covertreex.metrics.METRICS` (or, for a metric of the user's
own, in :mod:`sklearn_covertreex.metrics.user`). Each kernel is thus
compiled once per metric it is used with, with no branch per evaluation
(a runtime branch between metrics kept the distances from inlining and made
Euclidean queries about twice as slow). :func:`rows` is what makes a kernel
refuse rows of another metric: ``params[0]`` is the row width.
"""

from __future__ import annotations

from numba.core.errors import TypingError
from numba.extending import overload

from ...metrics import METRICS
from ...metrics.user import compiled_distance
from ..contract import check_row_width

#: kernel-metric class -> compiled distance of its metric
_COMPILED = {METRICS.get(name).kernel_class: METRICS.get(name).compiled for name in METRICS}


def _compiled_for(metric):
    """The compiled distance of a kernel-metric type (``TypingError`` if none)."""
    cls = getattr(metric, "instance_class", None)
    compiled = _COMPILED.get(cls)
    if compiled is None:  # a metric of the user's own (made before the kernel compiles)
        compiled = compiled_distance(cls)
    if compiled is None:
        raise TypingError(f"no compiled distance for the metric type {metric}: "
                          "pass Metric.kernel(params) of a registered metric")
    return compiled


def _dist(metric, x, points, j):
    """Distance between the row ``x`` and row ``j`` of ``points`` (compiled only)."""
    raise NotImplementedError


def _row_dist(metric, a, i, b, j):
    """Distance between row ``i`` of ``a`` and row ``j`` of ``b`` (compiled only)."""
    raise NotImplementedError


# Overloads, not jitted helpers around one overload: each compiled layer is
# compiled (and optimised again in its callers) on its own.
@overload(_dist)
def _ol_dist(metric, x, points, j):
    compiled = _compiled_for(metric)

    def impl(metric, x, points, j):
        return compiled(metric.params, x, points[j])
    return impl


@overload(_row_dist)
def _ol_row_dist(metric, a, i, b, j):
    compiled = _compiled_for(metric)

    def impl(metric, a, i, b, j):
        return compiled(metric.params, a[i], b[j])
    return impl


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
