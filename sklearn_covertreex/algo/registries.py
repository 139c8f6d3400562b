"""Every strategy registry in one place: name -> implementation.

Adding a strategy is one module plus one line here; the orchestrators only
look names up. A strategy registered here is a documented user choice, so it
must build the benchmark workloads W1 and W2 within 2x of the default's time
and peak memory. The dense traversal and the dense conflict graph do not
(W2: 105 s and 17.4 GB against 7.9 s; W1: 8.6 s against 0.57 s), and neither
does the single-batch prefix schedule (all rows in one batch: 58 s and 2.8 GB
against 0.46 s and 9 MiB at n = 30k of W1, killed for memory at W1's 100k),
so they are not registered: :func:`~.traverse.traverse_dense`,
:func:`~.conflict.conflict_dense` and :func:`~.schedule.single_schedule` stay
as test references only (the tests check them against the registered
strategies).
"""

from __future__ import annotations

from collections.abc import Callable

from .._registry import Registry
from ..backends import BACKENDS
from .conflict import conflict_grid, conflict_segmented, conflict_tree
from .mis import luby
from .order import hilbert_order, natural_order, random_order
from .schedule import doubling_schedule
from .traverse import traverse_sparse

TRAVERSALS: Registry[Callable] = Registry("traversal")
TRAVERSALS.register("sparse", traverse_sparse)

CONFLICT_GRAPHS: Registry[Callable] = Registry("conflict_graph")
CONFLICT_GRAPHS.register("segmented", conflict_segmented)
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

__all__ = [
    "BACKENDS",
    "CONFLICT_GRAPHS",
    "MIS",
    "ORDERS",
    "PREFIX_SCHEDULES",
    "TRAVERSALS",
]
