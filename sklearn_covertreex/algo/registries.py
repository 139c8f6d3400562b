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
from dataclasses import dataclass

from .._registry import Registry
from ..backends import BACKENDS
from ..backends.contract import provides_kernel
from .batch.depth_first import build_depth_first, choose_construction
from .batch.insert import insert_rows
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


@dataclass(frozen=True)
class Construction:
    """How a tree's rows are placed.

    Attributes
    ----------
    build : callable or None
        ``build(ctx, builder, X, ids, stats, progress, order)`` places the
        rows ``X`` in ``builder``.
    kernel : str or None
        The optional backend kernel it needs
        (:data:`~sklearn_covertreex.backends.contract.OPTIONAL_KERNELS`).
    extends : bool
        Whether it can add rows to a tree that has nodes (else it builds
        from an empty one).
    choose : callable or None
        For a construction that picks another: ``choose(ctx, X)`` returns
        the name of the construction that builds the rows ``X``.
    """

    build: Callable | None
    kernel: str | None = None
    extends: bool = False
    choose: Callable | None = None


CONSTRUCTIONS: Registry[Construction] = Registry("construction")
CONSTRUCTIONS.register("auto", Construction(None, "construct_depth_first",
                                            choose=choose_construction))
CONSTRUCTIONS.register("depth_first", Construction(build_depth_first, "construct_depth_first"))
CONSTRUCTIONS.register("batch", Construction(insert_rows, extends=True))

#: The construction that extends a tree with nodes (insert, partial_fit), and
#: the one ``"auto"`` means on a backend without the depth-first kernel.
INCREMENTAL_CONSTRUCTION = "batch"


def resolve_construction(name: str, backend: object) -> str:
    """The construction ``name`` means on the tree-kernel package ``backend``.

    ``"auto"`` on a backend without the depth-first kernel becomes
    :data:`INCREMENTAL_CONSTRUCTION`. Raises ``ValueError`` for an unknown
    name or a construction whose kernel the backend lacks.
    """
    CONSTRUCTIONS.check(name)
    kernel = CONSTRUCTIONS.get(name).kernel
    if kernel is None or provides_kernel(backend, kernel):
        return name
    if name == "auto":
        return INCREMENTAL_CONSTRUCTION
    able = ["auto", *(n for n in CONSTRUCTIONS.names() if CONSTRUCTIONS.get(n).kernel is None)]
    raise ValueError(
        f"construction {name!r} needs the {kernel!r} kernel, which backend "
        f"{getattr(backend, 'name', backend)!r} does not provide; constructions it runs: "
        + ", ".join(map(repr, able))
    )


__all__ = [
    "BACKENDS",
    "CONFLICT_GRAPHS",
    "CONSTRUCTIONS",
    "Construction",
    "INCREMENTAL_CONSTRUCTION",
    "MIS",
    "ORDERS",
    "PREFIX_SCHEDULES",
    "TRAVERSALS",
    "resolve_construction",
]
