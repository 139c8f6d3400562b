"""Every strategy registry in one place: name -> implementation.

Adding a strategy is one module plus one line here; the orchestrators only
look names up.
"""

from __future__ import annotations

from collections.abc import Callable

from .._registry import Registry
from ..backends import BACKENDS
from .conflict import conflict_dense, conflict_grid, conflict_segmented, conflict_tree
from .mis import luby
from .order import hilbert_order, natural_order, random_order
from .schedule import doubling_schedule, single_schedule
from .traverse import traverse_dense, traverse_sparse

TRAVERSALS: Registry[Callable] = Registry("traversal")
TRAVERSALS.register("sparse", traverse_sparse)
TRAVERSALS.register("dense", traverse_dense)

CONFLICT_GRAPHS: Registry[Callable] = Registry("conflict_graph")
CONFLICT_GRAPHS.register("segmented", conflict_segmented)
CONFLICT_GRAPHS.register("dense", conflict_dense)
CONFLICT_GRAPHS.register("grid", conflict_grid)
CONFLICT_GRAPHS.register("tree", conflict_tree)

MIS: Registry[Callable] = Registry("mis")
MIS.register("luby", luby)

ORDERS: Registry[Callable] = Registry("batch_order")
ORDERS.register("random", random_order)
ORDERS.register("natural", natural_order)
ORDERS.register("hilbert", hilbert_order)

PREFIX_SCHEDULES: Registry[Callable] = Registry("prefix_schedule")
PREFIX_SCHEDULES.register("doubling", doubling_schedule)
PREFIX_SCHEDULES.register("single", single_schedule)

__all__ = [
    "BACKENDS",
    "CONFLICT_GRAPHS",
    "MIS",
    "ORDERS",
    "PREFIX_SCHEDULES",
    "TRAVERSALS",
]
