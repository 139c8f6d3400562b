"""The one check that a strategy needing coordinates meets a metric that has them."""

from __future__ import annotations

from typing import Any

#: (parameter, strategy) pairs that work on coordinates only.
NEEDS_COORDINATES = frozenset({("conflict_graph", "grid"), ("batch_order", "hilbert")})


def check_coordinates(metric: Any, name: str, value: str) -> None:
    """Raise ``ValueError`` naming the valid choices when ``value`` needs coordinates
    that ``metric`` (a :class:`~sklearn_covertreex.metrics.base.Metric`) does not have."""
    if (name, value) not in NEEDS_COORDINATES or metric.has_coordinates:
        return
    from .registries import CONFLICT_GRAPHS, ORDERS

    registry = {"conflict_graph": CONFLICT_GRAPHS, "batch_order": ORDERS}[name]
    valid = [c for c in registry.names() if (name, c) not in NEEDS_COORDINATES]
    raise ValueError(
        f"{name}={value!r} needs coordinates and does not apply to the {metric.name!r} "
        "metric; valid choices are: " + ", ".join(repr(c) for c in valid)
    )
