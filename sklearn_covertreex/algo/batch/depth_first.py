"""Depth-first construction: a whole tree from an empty builder in one kernel call.

The backend's ``construct_depth_first`` kernel (an optional kernel of
:mod:`sklearn_covertreex.backends.contract`) places every row: its level,
parent and parent distance, or the node it duplicates. This module turns
that into builder nodes: the rows that are nodes become nodes (with the
kernel's exact subtree radii) and each duplicate becomes an extra id of its
node. The algorithm and its invariant proof: ``doc/algorithm.md``,
"Depth-first construction".
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ...core.tree import index_dtype
from ..order.zorder import zorder_permutation
from ..view import Context
from .builder import TreeBuilder
from .stats import BuildStats

#: Rows of the trial run of :func:`depth_first_pays`.
TRIAL_ROWS = 4096

#: Most distances per row the trial may evaluate for the depth-first
#: construction to be chosen. Measured at 4096 rows (2026-12-04): 26 on H3
#: (2-D), 68 on W1 (3-D), 145 on W3 (4-dim subspace of 16-D), 892 on W2
#: (8-D); with 2 threads the depth-first build was faster than the batch
#: insertion on H3 and W1 (1.3-1.4 s against 4.3 s, 0.22-0.23 s against
#: 0.70 s) and slower on W3 (3.3 s against 2.7 s) and W2.
TRIAL_DISTANCES_PER_ROW = 100

#: From this many coordinate rows on, the construction works on a copy of
#: the rows in Z-order and takes them in that order (the batch order's first
#: row stays the root): the rows a frame compares are then near each other
#: in memory and its segments stay nearly sorted. On H3 (a million 2-D rows)
#: the kernel took 1.4-1.7 s on the rows as given (random order), 1.1-1.4 s
#: on Z-ordered rows taken in random order and 0.87-0.93 s on Z-ordered
#: rows in Z-order, with the same number of distances, for 0.15 s of
#: sorting; W1's fit (100k rows) took 0.37-0.40 s on Z-ordered rows against
#: 0.44-0.54 s without (2026-12-04).
LOCALITY_ROWS = 1 << 15


def depth_first_pays(ctx: Context, X: np.ndarray) -> bool:
    """Whether the depth-first construction should build the rows ``X`` (``"auto"``).

    The depth-first construction runs on one thread and its cost per row
    grows with the data's intrinsic dimension; the batch insertion runs on
    every thread. A trial depth-first build on :data:`TRIAL_ROWS` evenly
    spaced rows decides: it pays when the trial needs at most
    :data:`TRIAL_DISTANCES_PER_ROW` distances per row (the trial stops as
    soon as it needs more). Sets of at most :data:`TRIAL_ROWS` rows are
    always built depth first. Deterministic: the same rows give the same
    choice.
    """
    n = X.shape[0]
    if n <= TRIAL_ROWS:
        return True
    sample = np.ascontiguousarray(X[:: n // TRIAL_ROWS][:TRIAL_ROWS])
    budget = TRIAL_DISTANCES_PER_ROW * TRIAL_ROWS
    *_, n_dist = ctx.backend.construct_depth_first(
        ctx.kernel_metric, sample, np.arange(TRIAL_ROWS, dtype=np.int64), budget)
    return n_dist <= budget


def choose_construction(ctx: Context, X: np.ndarray) -> str:
    """``"depth_first"`` where :func:`depth_first_pays` for ``X``, else ``"batch"``."""
    return "depth_first" if depth_first_pays(ctx, X) else "batch"


def build_depth_first(ctx: Context, builder: TreeBuilder, X: np.ndarray, ids: np.ndarray,
                      stats: BuildStats, progress: Callable[[int], object] | None = None,
                      order: np.ndarray | None = None) -> None:
    """Fill the empty ``builder`` with the rows ``X`` (dataset ``ids``).

    ``order`` (default: as given) is a permutation of the rows: its first
    row becomes the root, the others are taken in that order (coordinate
    rows from :data:`LOCALITY_ROWS` on: in Z-order). ``progress``, if
    given, is called once with the number of rows, at the end.
    """
    if builder.n:
        raise ValueError("the depth-first construction builds a tree from an empty builder")
    n = X.shape[0]
    positions = index_dtype(max(n, builder.n_ids_total) + 1)
    if order is None:
        order = np.arange(n, dtype=positions)
    t0 = time.perf_counter()
    source, z = X, None  # the kernel's row i is source[z[i]] (z None: source[i])
    if getattr(ctx.metric, "has_coordinates", False) and n >= LOCALITY_ROWS:
        z = zorder_permutation(X).astype(positions, copy=False)
        X, ids = np.take(X, z, axis=0), ids[z].astype(positions, copy=False)  # take: fast rows
        root = int(np.flatnonzero(z == order[0])[0])
        order = np.arange(n, dtype=positions)  # the Z-order, the batch order's first row as root
        order[[0, root]] = order[[root, 0]]
        t0 = stats.add_time("order", t0)
    level, parent, parent_dist, radius, dup_of, n_dist = ctx.backend.construct_depth_first(
        ctx.kernel_metric, X, order)
    del X  # the Z-ordered copy: the builder gathers the tree's rows from source once
    stats.data["distances"] = int(n_dist)
    t0 = stats.add_time("construct", t0)
    root = int(order[0])
    nodes = np.flatnonzero(dup_of < 0).astype(positions, copy=False)
    if nodes.size == n:  # no duplicates: the kernel's arrays are the nodes' (no copies)
        builder.fill(source, level, parent, radius, parent_dist, root, rows=z)
        builder.add_ids(nodes, ids)
    else:
        index = np.full(n, -1, dtype=positions)
        index[nodes] = np.arange(nodes.size, dtype=positions)
        parent = parent[nodes]
        parent = np.where(parent >= 0, index[np.maximum(parent, 0)], -1)
        builder.fill(source, level[nodes], parent, radius[nodes], parent_dist[nodes],
                     int(index[root]), rows=nodes if z is None else z[nodes])
        builder.add_ids(np.arange(nodes.size), ids[nodes])
        dups = np.flatnonzero(dup_of >= 0)
        builder.add_ids(index[dup_of[dups]], ids[dups])
        stats.data["duplicates"] += int(dups.size)
    stats.add_time("attach", t0)
    if progress is not None:
        progress(n)
