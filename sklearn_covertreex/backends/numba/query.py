"""Query kernels (numba): exact best-first k-NN and radius search, parallel over queries.

The public kernels are plain Python functions that allocate the outputs and
run a GIL-free compiled range kernel over chunks of the queries
(:func:`sklearn_covertreex._parallel.for_chunks`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..._parallel import for_chunks
from ..contract import BLOCK_SCAN_NODES, PRUNE_RTOL
from .distance import _dist, rows
from .heaps import (
    FRONTIER_START,
    _fpop,
    _fpush,
    _grow,
    _heap_push_carry,
    _heap_sort,
    _sort_pairs,
)

#: Fewest queries per chunk (a chunk reuses one search frontier).
QUERY_GRAIN = 32


@njit(cache=True, inline="always")
def _among(nodes, count, v):
    """Whether node ``v`` is one of ``nodes[:count]``."""
    for s in range(count):
        if nodes[s] == v:
            return True
    return False


@njit(cache=True, nogil=True)
def _knn_range(metric, points, radius, parent_dist, child_ptr, children, subtree_end, id_ptr, ids,
               root, Q, k, out_d, out_i, evals, pruned, lo, hi):
    """Best-first k-NN of the queries ``Q[lo:hi]`` into the rows ``lo:hi`` of the outputs.

    Each output row is a max-heap (distance, id) during its search, sorted at
    the end. Every query after the first of the range is **seeded** with the
    nodes of the previous query's neighbours: their distances fill the heap
    before the search starts, so its k-th distance bounds the search from the
    first node on (queries arrive in a locality order, so the previous
    query's neighbours are usually near). A seeded node is not pushed again
    when the search reaches it. The answer is the same with or without
    seeds: seeds are candidates like any other, and a bound from k real
    candidates never prunes a node that holds a true neighbour.

    An expanded node's children are first tested against the parent-distance
    bound with the k-th distance as the expansion starts, in one branch-free
    pass; the children kept are then evaluated (a bound that shrinks during
    the expansion skips no more of them: a few more distances, about 8% less
    time on W2's 8-D queries, the same answers). A node whose descendants are
    one run of at most :data:`BLOCK_SCAN_NODES` nodes is not expanded: all
    of them are evaluated in node order and offered to the heap.

    ``evals`` counts distance evaluations (seeds included), ``pruned`` the
    nodes whose subtree is discarded unexpanded (skipped by the
    parent-distance bound, not queued, or left queued when the search
    stops). The per-query search is written inside the loop: numba optimises
    a callee again in its caller, and a helper cost about a second of a cold
    start.
    """
    fk = np.empty(FRONTIER_START, np.float64)
    fn = np.empty(FRONTIER_START, np.int64)
    fd = np.empty(FRONTIER_START, np.float64)
    heap_nodes = np.empty(k, np.int64)  # the node of each heap entry
    seeds = np.empty(k, np.int64)
    kids = np.empty(FRONTIER_START, children.dtype)  # the children an expansion evaluates
    n_prev = 0  # entries of heap_nodes from the previous query
    for i in range(lo, hi):
        q = Q[i]
        hd = out_d[i]
        hx = out_i[i]
        size = np.int64(0)  # not a literal 0: _heap_sort would compile for Literal[int](0) too
        n_dist = 0
        n_seeds = 0
        for s in range(n_prev):  # heap_nodes: the previous query's neighbours
            v = heap_nodes[s]
            if not _among(seeds, n_seeds, v):  # a node may hold several of them
                seeds[n_seeds] = v
                n_seeds += 1
        for s in range(n_seeds):  # heap_nodes is rewritten from here on
            v = seeds[s]
            dv = _dist(metric, q, points, v)
            n_dist += 1
            for t in range(id_ptr[v], id_ptr[v + 1]):
                size = _heap_push_carry(hd, hx, heap_nodes, size, k, dv, ids[t], v)
        d0 = _dist(metric, q, points, root)
        n_dist += 1
        if not _among(seeds, n_seeds, root):
            for t in range(id_ptr[root], id_ptr[root + 1]):
                size = _heap_push_carry(hd, hx, heap_nodes, size, k, d0, ids[t], root)
        n_pruned = 0
        fs = 0
        if radius[root] > 0.0:
            fs = _fpush(fk, fn, fd, 0, d0 - radius[root], root, d0)
        while fs > 0:
            lb, p, dp, fs = _fpop(fk, fn, fd, fs)
            kth = hd[0] if size == k else np.inf
            if lb > kth + PRUNE_RTOL * (dp + radius[p]):
                n_pruned += fs + 1
                break
            lo_c = child_ptr[p]
            end = subtree_end[p]
            if end >= 0 and end - children[lo_c] <= BLOCK_SCAN_NODES:  # a small subtree: one run
                first = children[lo_c]
                for c in range(first, end):
                    d = _dist(metric, q, points, c)
                    if (size < k or d <= hd[0]) and not _among(seeds, n_seeds, c):
                        for u in range(id_ptr[c], id_ptr[c + 1]):
                            size = _heap_push_carry(hd, hx, heap_nodes, size, k, d, ids[u], c)
                n_dist += end - first
                continue
            if fs + child_ptr[p + 1] - child_ptr[p] > fk.shape[0]:
                need = fs + child_ptr[p + 1] - child_ptr[p]
                fk, fn, fd = _grow(fk, need), _grow(fn, need), _grow(fd, need)
            n_kids = child_ptr[p + 1] - lo_c
            if n_kids > kids.shape[0]:
                kids = _grow(kids, n_kids)
            n_kept = 0
            # |d(q, p) - d(p, c)| <= d(q, c): children whose gap already exceeds
            # the k-th distance are skipped unevaluated; one branch-free pass
            # with the bound as the expansion starts keeps the others
            for t in range(lo_c, lo_c + n_kids):
                c = children[t]
                rc = radius[c]
                gap = abs(dp - parent_dist[c])
                kids[n_kept] = c
                n_kept += not gap - rc > kth + PRUNE_RTOL * (gap + rc + dp)
            n_pruned += n_kids - n_kept
            for s in range(n_kept):
                c = kids[s]
                rc = radius[c]
                d = _dist(metric, q, points, c)
                n_dist += 1
                if (size < k or d <= hd[0]) and not _among(seeds, n_seeds, c):
                    for u in range(id_ptr[c], id_ptr[c + 1]):
                        size = _heap_push_carry(hd, hx, heap_nodes, size, k, d, ids[u], c)
                if rc > 0.0:
                    kth = hd[0] if size == k else np.inf
                    if d - rc <= kth + PRUNE_RTOL * (d + rc):
                        fs = _fpush(fk, fn, fd, fs, d - rc, c, d)
                    else:
                        n_pruned += 1
        _heap_sort(hd, hx, size)  # heap_nodes keeps the same set of nodes, unsorted
        n_prev = size
        evals[i] = n_dist
        pruned[i] = n_pruned


def knn(metric, points, radius, parent_dist, child_ptr, children, subtree_end, id_ptr, ids, root,
        Q, k):
    """Exact k nearest neighbours of every row of Q.

    Returns (distances, ids, distance evaluations, pruned nodes), the last two
    per query.
    """
    points, Q = rows(metric, points), rows(metric, Q)
    nq = Q.shape[0]
    out_d = np.full((nq, k), np.inf)
    out_i = np.full((nq, k), -1, np.int64)
    evals = np.zeros(nq, np.int64)
    pruned = np.zeros(nq, np.int64)
    for_chunks(_knn_range, nq, (metric, points, radius, parent_dist, child_ptr, children,
                                subtree_end, id_ptr, ids, root, Q, k, out_d, out_i, evals, pruned),
               grain=QUERY_GRAIN)
    return out_d, out_i, evals, pruned


@njit(cache=True, nogil=True)
def _radius_range(metric, points, radius, parent_dist, child_ptr, children, subtree_end, id_ptr,
                  ids, root, Q, r, counts, offsets, out_d, out_i, lo, hi):
    """Ids within r[i] of the queries Q[lo:hi]: counted (``out_d`` empty), or written.

    Counting stores each query's number of ids in ``counts``; writing puts
    them at ``offsets[i]:offsets[i + 1]``, each row sorted by (distance, id).
    A depth-first search visits every node within r of the query; a node
    whose descendants are one run of at most :data:`BLOCK_SCAN_NODES` nodes
    has them all evaluated in node order instead. It is written inside the
    loop: numba optimises a callee again in its caller.
    """
    fill = out_d.shape[0] > 0
    sn = np.empty(FRONTIER_START, np.int64)
    sd = np.empty(FRONTIER_START, np.float64)
    for i in range(lo, hi):
        base = offsets[i] if fill else 0
        if fill and offsets[i + 1] == base:
            continue
        q = Q[i]
        ri = r[i]
        count = 0
        d0 = _dist(metric, q, points, root)
        if d0 <= ri:
            for t in range(id_ptr[root], id_ptr[root + 1]):
                if fill:
                    out_d[base + count] = d0
                    out_i[base + count] = ids[t]
                count += 1
        top = 0
        if d0 - radius[root] <= ri + PRUNE_RTOL * (d0 + radius[root]):
            sn[0] = root
            sd[0] = d0
            top = 1
        while top > 0:
            top -= 1
            p = sn[top]
            dp = sd[top]
            end = subtree_end[p]
            if end >= 0 and end - children[child_ptr[p]] <= BLOCK_SCAN_NODES:  # a small subtree
                for c in range(children[child_ptr[p]], end):
                    d = _dist(metric, q, points, c)
                    if d <= ri:
                        for u in range(id_ptr[c], id_ptr[c + 1]):
                            if fill:
                                out_d[base + count] = d
                                out_i[base + count] = ids[u]
                            count += 1
                continue
            for t in range(child_ptr[p], child_ptr[p + 1]):
                c = children[t]
                rc = radius[c]
                # |d(q, p) - d(p, c)| <= d(q, c): skip c and its subtree unevaluated
                gap = abs(dp - parent_dist[c])
                if gap - rc > ri + PRUNE_RTOL * (gap + rc + dp):
                    continue
                d = _dist(metric, q, points, c)
                if d <= ri:
                    for u in range(id_ptr[c], id_ptr[c + 1]):
                        if fill:
                            out_d[base + count] = d
                            out_i[base + count] = ids[u]
                        count += 1
                if rc > 0.0 and d - rc <= ri + PRUNE_RTOL * (d + rc):
                    if top >= sn.shape[0]:
                        sn = _grow(sn, top + 1)
                        sd = _grow(sd, top + 1)
                    sn[top] = c
                    sd[top] = d
                    top += 1
        if fill:
            _sort_pairs(out_d[base:base + count], out_i[base:base + count])
        else:
            counts[i] = count


def radius_count(metric, points, radius, parent_dist, child_ptr, children, subtree_end, id_ptr, ids,
                 root, Q, r):
    """Number of ids within r[i] of each row Q[i]."""
    points, Q = rows(metric, points), rows(metric, Q)
    counts = np.zeros(Q.shape[0], np.int64)
    empty_i = np.empty(0, np.int64)
    for_chunks(_radius_range, Q.shape[0], (metric, points, radius, parent_dist, child_ptr,
                                           children, subtree_end, id_ptr, ids, root, Q, r, counts,
                                           empty_i,
                                           np.empty(0, np.float64), empty_i),
               grain=QUERY_GRAIN)
    return counts


def radius_fill(metric, points, radius, parent_dist, child_ptr, children, subtree_end, id_ptr, ids,
                root, Q, r, offsets):
    """Distances and ids within r[i] of each Q[i], written at offsets[i], rows sorted."""
    points, Q = rows(metric, points), rows(metric, Q)
    out_d = np.empty(offsets[-1], np.float64)
    out_i = np.empty(offsets[-1], np.int64)
    if offsets[-1] > 0:
        for_chunks(_radius_range, Q.shape[0], (metric, points, radius, parent_dist, child_ptr,
                                               children, subtree_end, id_ptr, ids, root, Q, r,
                                               np.empty(0, np.int64), offsets, out_d, out_i),
                   grain=QUERY_GRAIN)
    return out_d, out_i
