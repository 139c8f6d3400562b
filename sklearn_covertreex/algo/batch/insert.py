"""Parallel batch insertion with prefix doubling (Gu, Napier, Sun, Wang 2022).

Each batch repeats rounds of: traverse (every pending point finds its
insertion level and parent in the current tree; after the first round only
the points :func:`.relevel.relevel_losers` could not place) -> conflict
graph (pending points that would break separation together) -> maximal
independent set -> attach the MIS as new nodes -> the points left out move
under the new nodes they conflicted with, if nearer, and go again. See
``doc/algorithm.md`` for why the invariants hold.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ...backends.contract import ceil_log2
from ...core.tree import TreeArrays, index_dtype
from ..order.hilbert import hilbert_permutation
from ..view import Context
from .builder import TreeBuilder, empty_tree
from .relevel import relevel_losers
from .stats import BuildStats


def insert_rows(ctx: Context, builder: TreeBuilder, X: np.ndarray, ids: np.ndarray,
                stats: BuildStats, progress: Callable[[int], object] | None = None,
                order: np.ndarray | None = None) -> None:
    """Insert rows ``X`` with dataset ``ids`` into ``builder``, in the given ``order``.

    ``order`` (default: as given) lists the positions of the rows in
    insertion order; each batch gathers its own rows, so the reordered rows
    are never held whole. ``progress``, if given, is called with the number
    of rows handled after each batch.
    """
    from .. import registries  # here: the registries list this very function

    if order is None:
        order = np.arange(X.shape[0])
    rt = ctx.runtime
    rng = np.random.default_rng(rt.seed)
    traverse = registries.TRAVERSALS.get(rt.traversal)
    conflicts = registries.CONFLICT_GRAPHS.get(rt.conflict_graph)
    mis = registries.MIS.get(rt.mis)
    schedule = registries.PREFIX_SCHEDULES.get(rt.prefix_schedule)
    start = 0
    if builder.root < 0:
        first = X[order[0]]
        d = ctx.backend.distances_to_point(ctx.kernel_metric, X, first)
        dmax = float(d.max())
        builder.add_root(first, ceil_log2(dmax) if dmax > 0 else 0, int(ids[order[0]]))
        start = 1
        if progress is not None:
            progress(1)
    rest = order[start:]
    for lo, hi in schedule(rest.shape[0], builder.n, rt.prefix_base):
        stats.data["batches"] += 1
        bx, bid = X[rest[lo:hi]], ids[rest[lo:hi]]
        root_point = builder.points[builder.root]
        dmax = float(ctx.backend.distances_to_point(ctx.kernel_metric, bx, root_point).max())
        if dmax > 0:
            builder.raise_root(ceil_log2(dmax))
        builder.relayout()
        pending = np.arange(bx.shape[0])
        if getattr(ctx.metric, "has_coordinates", False) and bx.shape[0] > 1024:
            # visit the batch along a space-filling curve: neighbouring points
            # walk the same part of the tree (memory locality only; the
            # result does not depend on this order)
            pending = hilbert_permutation(bx)
        lev = np.zeros(pending.size, np.int64)
        par = np.zeros(pending.size, np.int64)
        dup = np.full(pending.size, -1, np.int64)
        stale = np.ones(pending.size, dtype=bool)  # rows whose place must be searched
        while pending.size:
            stats.data["rounds"] += 1
            t0 = time.perf_counter()
            Xp = np.ascontiguousarray(bx[pending])
            search = np.flatnonzero(stale)
            if search.size:
                Xs = Xp if search.size == pending.size else np.ascontiguousarray(Xp[search])
                lev[search], par[search], dup[search] = traverse(ctx, builder.view(), Xs)
                stats.data["searched"] += int(search.size)
            t0 = stats.add_time("traverse", t0)
            is_dup = dup >= 0
            if np.any(is_dup):
                builder.add_ids(dup[is_dup], bid[pending[is_dup]])
                stats.data["duplicates"] += int(is_dup.sum())
            fresh = np.flatnonzero(~is_dup)
            if fresh.size == 0:
                break
            Xf = Xp if fresh.size == Xp.shape[0] else Xp[fresh]
            lf, pf = lev[fresh], par[fresh]
            ei, ej = conflicts(ctx, builder.view(), Xf, lf, pf)
            t0 = stats.add_time("conflict", t0)
            stats.data["conflict_edges"] += int(ei.size)
            if ei.size:
                deg = np.bincount(np.concatenate((ei, ej)), minlength=fresh.size).max()
                stats.data["max_conflict_degree"] = max(stats.data["max_conflict_degree"],
                                                        int(deg))
            chosen, rounds = mis(ctx, fresh.size, ei, ej, rng)
            stats.data["mis_rounds"] += rounds
            t0 = stats.add_time("mis", t0)
            take = fresh[chosen]
            nodes = builder.add_nodes(ctx, Xp[take], lf[chosen], pf[chosen], bid[pending[take]])
            t0 = stats.add_time("attach", t0)
            if chosen.all():
                break
            lev, par, dup, exact = relevel_losers(ctx, Xf, lf, pf, chosen, ei, ej, nodes,
                                                  builder.points, builder.level)
            pending = pending[fresh[~chosen]]
            dup[~exact] = -1  # searched again next round
            stale = ~exact
            stats.add_time("relevel", t0)
        if progress is not None:
            progress(hi - lo)


def insert_points(ctx: Context, tree: TreeArrays, X: np.ndarray,
                  ids: np.ndarray | None = None,
                  progress: Callable[[int], object] | None = None) -> TreeArrays:
    """Return a new tree holding ``tree``'s points plus the rows of ``X``.

    An empty ``tree`` is built by the runtime's construction
    (:data:`~sklearn_covertreex.algo.registries.CONSTRUCTIONS`). A tree is
    extended by the batch insertion, unless the construction cannot extend
    one and ``X`` has at least as many rows as ``tree`` holds ids: then the
    tree is rebuilt from its rows and ``X`` together (``progress`` then
    counts the old rows too).

    Parameters
    ----------
    ctx : Context
        Backend, metric and runtime.
    tree : TreeArrays
        The tree to extend (left unchanged; may be empty).
    X : ndarray of shape (m, d), float64
        Points to insert (validated by the caller).
    ids : ndarray of shape (m,), optional
        Dataset ids of the rows (distinct, non-negative, not in ``tree``;
        checked by the caller); by default ``tree.n_ids_total + arange(m)``.
    progress : callable, optional
        Called with the number of rows inserted after each batch.
    """
    from .. import registries  # here: the registries list this module's functions

    stats = BuildStats()
    t0 = time.perf_counter()
    m = X.shape[0]
    if ids is None:
        n_ids_total = tree.n_ids_total + m
        ids = np.arange(tree.n_ids_total, n_ids_total, dtype=index_dtype(n_ids_total + 1))
    else:
        n_ids_total = max(tree.n_ids_total, int(ids.max()) + 1 if m else 0)
        ids = np.asarray(ids, dtype=index_dtype(n_ids_total + 1))
    name = registries.resolve_construction(ctx.runtime.construction, ctx.backend)
    construction = registries.CONSTRUCTIONS.get(name)
    whole = m and (not tree.n_nodes or m >= tree.n_points)  # rows a construction may build
    if whole and construction.choose is not None:
        name = construction.choose(ctx, X)
        construction = registries.CONSTRUCTIONS.get(name)
    if tree.n_nodes and whole and not construction.extends:
        old_ids = tree.live_ids()
        X = np.concatenate((tree.points[tree.node_of_id()[old_ids]], X))
        ids = np.concatenate((old_ids, ids))
        m = X.shape[0]
        tree = empty_tree(tree.metric, tree.metric_params, tree.n_ids_total)
    if tree.n_nodes:
        name = registries.INCREMENTAL_CONSTRUCTION
        construction = registries.CONSTRUCTIONS.get(name)
    stats.data["construction"] = name
    rng = np.random.default_rng(ctx.runtime.seed)
    order = registries.ORDERS.get(ctx.runtime.batch_order)(X, rng, ctx.metric)
    t0 = stats.add_time("order", t0)
    if tree.n_nodes:
        builder = TreeBuilder.from_tree(tree, m)
    else:
        # a construction that does not extend a tree fills the builder at once
        builder = TreeBuilder(X.shape[1:], m if construction.extends else 0, tree.n_ids_total)
    builder.n_ids_total = n_ids_total
    if m:
        with ctx.backend.threads(ctx.n_threads):
            construction.build(ctx, builder, X, ids, stats, progress, order)
    t0 = time.perf_counter()
    diagnostics = None
    if ctx.runtime.diagnostics:
        diagnostics = stats.data
        diagnostics["n_levels"] = int(np.unique(builder.level[: builder.n]).size)
    with ctx.backend.threads(ctx.n_threads):
        out = builder.finalize(ctx, diagnostics)
    stats.add_time("finalize", t0)
    return out
