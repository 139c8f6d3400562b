"""The one check that a strategy needing coordinates meets a metric that allows it."""

from __future__ import annotations

from typing import Any

#: (parameter, strategy) pairs that are valid only where every coordinate
#: difference of two stored rows is at most their distance.
NEEDS_COORDINATES = frozenset({("conflict_graph", "grid"), ("batch_order", "hilbert")})


def check_coordinates(metric: Any, name: str, value: str) -> None:
    """Raise ``ValueError`` naming the valid choices when ``value`` needs coordinates
    bounding the distance that ``metric`` (a
    :class:`~sklearn_covertreex.metrics.base.Metric`) does not have.

    The grid conflict graph hashes points into cells of the coordinates, and the
    Hilbert batch order quantises them: both assume ``|a_t - b_t| <= d(a, b)``
    (Minkowski distances with ``p >= 1``, and the metrics stored as Euclidean
    rows), which fails for Hamming, Canberra, the boolean metrics, the
    residual correlation and metrics of the user's own.
    """
    if (name, value) not in NEEDS_COORDINATES or getattr(metric, "coordinate_bound", False):
        return
    from .registries import CONFLICT_GRAPHS, ORDERS

    registry = {"conflict_graph": CONFLICT_GRAPHS, "batch_order": ORDERS}[name]
    valid = [c for c in registry.names() if (name, c) not in NEEDS_COORDINATES]
    raise ValueError(
        f"{name}={value!r} needs coordinates whose differences bound the distance from "
        f"below, which the {metric.name!r} metric does not have; valid choices are: "
        + ", ".join(repr(c) for c in valid)
    )
