"""Dense traversal: the whole batch descends level by level as flat pair arrays.

The frontier is a flat list of (point, candidate node) pairs. At each tree
level (highest first) every pair expands the candidate's children of exactly
that level, distances of all new pairs are computed in one backend call, and
pairs farther than ``2**(level + 1)`` are dropped. It computes the same
answer as the sparse descent (see ``doc/algorithm.md``) with array operations
only, which is the shape GPU backends want.
"""

from __future__ import annotations

import numpy as np

from ...backends.contract import ceil_log2_array
from ..view import Context, TreeView


def _record(
    pt: np.ndarray, node: np.ndarray, dist: np.ndarray, lo: int | None, hi: int,
    best_s: np.ndarray, best_par: np.ndarray,
) -> None:
    """For C constant on levels [lo, hi]: record the lowest level t with d(x, C_t) <= 2^t."""
    if pt.size == 0:
        return
    order = np.lexsort((node, dist, pt))
    first = np.ones(order.size, dtype=bool)
    first[1:] = pt[order][1:] != pt[order][:-1]
    sel = order[first]
    t = ceil_log2_array(dist[sel])
    if lo is not None:
        t = np.maximum(t, lo)
    ok = t <= hi
    best_s[pt[sel][ok]] = t[ok]
    best_par[pt[sel][ok]] = node[sel][ok]


def traverse_dense(
    ctx: Context, view: TreeView, X: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Insertion level, parent and duplicate node of each row of ``X``."""
    backend = ctx.backend
    b = X.shape[0]
    level, child_ptr, children = view.level, view.child_ptr, view.children
    child_level = level[children]
    # run_end[c]: end of the run of children sharing c's parent and level
    n_child = children.shape[0]
    run_end = np.empty(n_child, dtype=np.int64)
    if n_child:
        owner = np.repeat(np.arange(level.shape[0]), np.diff(child_ptr))
        brk = np.ones(n_child, dtype=bool)
        brk[:-1] = (owner[1:] != owner[:-1]) | (child_level[1:] != child_level[:-1])
        ends = np.flatnonzero(brk) + 1
        starts = np.concatenate(([0], ends[:-1]))
        run_end = np.repeat(ends, ends - starts)

    best_s = np.zeros(b, dtype=np.int64)
    best_par = np.full(b, -1, dtype=np.int64)
    dup = np.full(b, -1, dtype=np.int64)

    pt = np.arange(b, dtype=np.int64)
    node = np.full(b, view.root, dtype=np.int64)
    dist = backend.distances_to_point(ctx.kernel_metric, X, view.points[view.root])
    dup[dist == 0] = view.root
    keep = dist > 0
    pt, node, dist = pt[keep], node[keep], dist[keep]
    cursor = child_ptr[node]

    j = int(level[view.root])
    for jn in np.unique(child_level)[::-1]:
        jn = int(jn)
        _record(pt, node, dist, jn + 1, j, best_s, best_par)
        end = child_ptr[node + 1]
        has = cursor < end
        cnt = np.zeros(pt.size, dtype=np.int64)
        idx = np.flatnonzero(has)
        at_level = child_level[cursor[idx]] == jn
        idx = idx[at_level]
        cnt[idx] = run_end[cursor[idx]] - cursor[idx]
        # new pairs: children at level jn of every candidate
        src = np.repeat(np.arange(pt.size), cnt)
        offs = np.arange(src.size) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        new_node = children[cursor[src] + offs]
        new_pt = pt[src]
        new_dist = backend.pair_distances(ctx.kernel_metric, X, new_pt, view.points,
                                          new_node)
        cursor = cursor + cnt
        radius = np.ldexp(1.0, jn + 1)
        keep_old = dist <= radius
        keep_new = new_dist <= radius
        pt = np.concatenate((pt[keep_old], new_pt[keep_new]))
        node = np.concatenate((node[keep_old], new_node[keep_new]))
        dist = np.concatenate((dist[keep_old], new_dist[keep_new]))
        cursor = np.concatenate((cursor[keep_old], child_ptr[new_node[keep_new]]))
        zero = dist == 0
        if np.any(zero):
            # smallest-level-first is irrelevant: a point duplicates at most one node
            dup[pt[zero]] = node[zero]
            live = dup[pt] < 0
            pt, node, dist, cursor = pt[live], node[live], dist[live], cursor[live]
        j = jn
        if pt.size == 0:
            break
    _record(pt, node, dist, None, j, best_s, best_par)
    out_level = best_s - 1
    out_level[dup >= 0] = 0
    best_par[dup >= 0] = -1
    return out_level, best_par, dup
