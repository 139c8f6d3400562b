"""Query engines for the residual-correlation metric, behind one registry.

An engine answers exact k-NN, all-points k-NN, Vecchia (predecessor) k-NN
and radius queries over a :class:`ResidualIndex`:

* ``"brute"``: blocked matrix products (:mod:`..metrics.residual.blocked`);
  every pair is evaluated at BLAS speed, all-points queries evaluate each
  unordered pair once.
* ``"tree"``: the parallel compressed cover tree built on packed residual
  rows, searched with the same exact branch-and-bound as the Euclidean tree;
  Vecchia queries use persistent prefix trees.

``"auto"`` resolves to ``"brute"``: on the measured workloads (see
``doc/residual.md``) the tree's triangle-inequality pruning skips too few
pairs to pay for evaluating the rest one pair at a time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._registry import Registry
from ..core.tree import TreeArrays
from ..metrics import get_metric
from ..metrics.residual import ResidualModel, ResidualPoints
from ..metrics.residual.blocked import (
    knn_blocked,
    knn_blocked_self,
    radius_blocked,
    vecchia_blocked,
)
from .batch import insert_points
from .batch.builder import empty_tree
from .query import knn_query, predecessor_knn, radius_query
from .view import Context

METRIC_NAME = "residual_correlation"


@dataclass(frozen=True)
class ResidualIndex:
    """Fitted state of a residual-correlation neighbour search (immutable).

    Attributes
    ----------
    model : ResidualModel
        Kernel, inducing points and Cholesky factor.
    points : ResidualPoints
        Residual data of the indexed rows, in id order.
    algorithm : str
        The engine answering queries ("brute" or "tree").
    tree : TreeArrays or None
        The cover tree on packed rows (engine "tree" only).
    diagnostics : dict
        How the index was built: engine and why, timings, tree counters.
    """

    model: ResidualModel
    points: ResidualPoints
    algorithm: str
    tree: TreeArrays | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)


class BruteEngine:
    """Blocked matrix products: exact, every pair evaluated at BLAS speed."""

    name = "brute"

    def build(self, ctx: Context, model: ResidualModel, points: ResidualPoints,
              progress: Any = None) -> TreeArrays | None:
        return None

    def extend(self, ctx: Context, index: ResidualIndex, new: ResidualPoints,
               progress: Any = None) -> TreeArrays | None:
        return None

    def knn(self, ctx: Context, index: ResidualIndex, Q: ResidualPoints, k: int):
        d, i, _ = knn_blocked(index.model, Q, index.points, k, ctx.runtime.n_jobs)
        return d, i

    def knn_self(self, ctx: Context, index: ResidualIndex, k: int):
        d, i, _ = knn_blocked_self(index.model, index.points, k, ctx.runtime.n_jobs)
        return d, i

    def vecchia(self, ctx: Context, index: ResidualIndex, k: int):
        d, i, _ = vecchia_blocked(index.model, index.points, k, ctx.runtime.n_jobs)
        return d, i

    def radius(self, ctx: Context, index: ResidualIndex, Q: ResidualPoints | None, r: float):
        P = index.points
        query = P if Q is None else Q
        return radius_blocked(index.model, query, P, np.full(query.n, r),
                              exclude_self=Q is None, n_workers=ctx.runtime.n_jobs)


class TreeEngine:
    """The cover tree on packed residual rows (fast-path kernels only)."""

    name = "tree"

    def build(self, ctx: Context, model: ResidualModel, points: ResidualPoints,
              progress: Any = None) -> TreeArrays | None:
        rows = model.pack(points)
        return insert_points(ctx, empty_tree(rows.shape[1:], METRIC_NAME), rows,
                             progress=progress)

    def extend(self, ctx: Context, index: ResidualIndex, new: ResidualPoints,
               progress: Any = None) -> TreeArrays | None:
        return insert_points(ctx, index.tree, index.model.pack(new), progress=progress)

    def knn(self, ctx: Context, index: ResidualIndex, Q: ResidualPoints, k: int):
        d, i, _, _ = knn_query(ctx, index.tree, index.model.pack(Q), k)
        return d, i

    def knn_self(self, ctx: Context, index: ResidualIndex, k: int):
        n = index.points.n
        d, i = self.knn(ctx, index, index.points, k + 1)
        # drop each row itself; if ties pushed it out, drop the last column
        mask = i != np.arange(n)[:, None]
        no_self = np.all(mask, axis=1)
        mask[no_self, -1] = False
        return d[mask].reshape(n, k), i[mask].reshape(n, k)

    def vecchia(self, ctx: Context, index: ResidualIndex, k: int):
        d, i, _ = predecessor_knn(ctx, index.model.pack(index.points), k, METRIC_NAME)
        return d, i

    def radius(self, ctx: Context, index: ResidualIndex, Q: ResidualPoints | None, r: float):
        rows = index.model.pack(index.points if Q is None else Q)
        indptr, dist, ids = radius_query(ctx, index.tree, rows, np.full(rows.shape[0], r))
        if Q is None:
            row = np.repeat(np.arange(rows.shape[0]), np.diff(indptr))
            keep = ids != row
            indptr = np.zeros_like(indptr)
            np.cumsum(np.bincount(row[keep], minlength=rows.shape[0]), out=indptr[1:])
            dist, ids = dist[keep], ids[keep]
        return indptr, dist, ids


#: algorithm name -> engine
RESIDUAL_ENGINES: Registry[Any] = Registry("algorithm")
RESIDUAL_ENGINES.register("brute", BruteEngine())
RESIDUAL_ENGINES.register("tree", TreeEngine())

#: Choices accepted by ``algorithm`` (the engines plus "auto").
ALGORITHM_CHOICES = ("auto", *RESIDUAL_ENGINES.names())


def resolve_algorithm(algorithm: str, model: ResidualModel) -> tuple[str, str]:
    """The engine for ``algorithm`` and the reason, for the diagnostics.

    Raises
    ------
    ValueError
        For an unknown name, or ``"tree"`` with a kernel without a fast path.
    """
    if algorithm == "auto":
        return "brute", (
            "auto: blocked brute force; the tree's exact pruning skips too few pairs under "
            "this metric to pay for single-pair evaluations (doc/residual.md)"
        )
    if algorithm not in RESIDUAL_ENGINES:
        raise ValueError(
            f"Unknown algorithm {algorithm!r}; valid choices are: "
            + ", ".join(repr(a) for a in ALGORITHM_CHOICES)
        )
    if algorithm == "tree" and model.fast is None:
        model.require_fast_path()
    return algorithm, "requested"


def residual_context(backend: Any, runtime: Any) -> Context:
    """A Context for the residual-correlation metric."""
    return Context(backend, get_metric(METRIC_NAME), runtime)


def build_index(ctx: Context, model: ResidualModel, points: ResidualPoints, algorithm: str,
                progress: Any = None) -> ResidualIndex:
    """Index ``points`` with the engine chosen by ``algorithm``."""
    name, reason = resolve_algorithm(algorithm, model)
    t0 = time.perf_counter()
    tree = RESIDUAL_ENGINES.get(name).build(ctx, model, points, progress)
    diagnostics = {
        "algorithm": name, "reason": reason, "n_inducing": model.n_inducing,
        "fast_kernel": model.fast is not None, "build_seconds": time.perf_counter() - t0,
        "tree": None if tree is None else tree.diagnostics,
    }
    return ResidualIndex(model, points, name, tree, diagnostics)


def extend_index(ctx: Context, index: ResidualIndex, new: ResidualPoints,
                 progress: Any = None) -> ResidualIndex:
    """A new index holding ``index``'s rows followed by ``new`` (ids continue)."""
    tree = RESIDUAL_ENGINES.get(index.algorithm).extend(ctx, index, new, progress)
    return replace(index, points=index.points.concat(new), tree=tree)


def engine(index: ResidualIndex) -> Any:
    """The engine answering ``index``'s queries."""
    return RESIDUAL_ENGINES.get(index.algorithm)
