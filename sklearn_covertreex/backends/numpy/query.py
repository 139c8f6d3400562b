"""Query kernels (numpy reference): best-first k-NN and radius search.

The k-NN search tests a node's children against the parent-distance bound
as the node is expanded, then walks the children kept one by one, because
each can tighten the bound that decides whether the next is queued; it
seeds each query with the previous query's neighbours and pops its
frontier in the same order as the compiled kernel, so the evaluation
counts agree too (with the compiled kernel run on one chunk of queries).
"""

from __future__ import annotations

import math

import numpy as np

from ..contract import BLOCK_SCAN_NODES, PRUNE_RTOL
from ._arrays import _csr_gather
from .distance import _diff_dists, _dist, check_width
from .heaps import _Frontier, _KBest


def _knn_one(metric, points, radius, parent_dist, child_ptr, children, subtree_end, id_ptr, ids,
             root, q, k, seeds):
    """Best-first k-NN of one query: (k-best pairs, distance evaluations, pruned nodes).

    The nodes ``seeds`` (distinct; the previous query's neighbours) are
    evaluated first and their ids offered, so the search starts with their
    k-th distance as its bound; the search offers no seed's ids again.
    Subtrees are expanded in increasing order of the lower bound
    ``d(q, p) - radius(p)`` and the search stops once that bound exceeds the
    current k-th distance (with PRUNE_RTOL slack). Once k ids are known, a
    child c is skipped unevaluated when ``|d(q, p) - d(p, c)| - radius(c)``
    already exceeds the k-th distance as its parent's expansion starts (the
    compiled kernel tests all of a node's children in one branch-free pass
    before evaluating the rest; a bound that shrinks during the expansion
    skips nothing more, which costs a few evaluations and no answer). A
    node counts as pruned when its
    subtree is discarded unexpanded (skipped, not queued, or still queued
    when the search stops). A node whose descendants are one run of at most
    BLOCK_SCAN_NODES nodes has them all evaluated in node order instead of
    being expanded, as in the compiled kernel.
    """
    root = int(root)
    best = _KBest(k)
    seeded = set(seeds.tolist())
    for v in seeds.tolist():
        best.add(_dist(metric, q, points[v]), ids[id_ptr[v] : id_ptr[v + 1]], v)
    d0 = _dist(metric, q, points[root])
    if root not in seeded:
        best.add(d0, ids[id_ptr[root] : id_ptr[root + 1]], root)
    n_dist = 1 + len(seeded)
    n_pruned = 0
    front = _Frontier()
    if radius[root] > 0.0:
        front.push(d0 - radius[root], root, d0)
    while front:
        lb, p, dp = front.pop()
        if lb > best.kth() + PRUNE_RTOL * (dp + radius[p]):
            n_pruned += len(front) + 1
            break  # every remaining subtree is farther than the k-th neighbour
        end = int(subtree_end[p])
        if end >= 0 and end - children[child_ptr[p]] <= BLOCK_SCAN_NODES:
            block = np.arange(children[child_ptr[p]], end)
            for c, d in zip(block.tolist(), _diff_dists(metric, q[None, :], points[block]).tolist(),
                            strict=True):
                if d <= best.kth() and c not in seeded:
                    best.add(d, ids[id_ptr[c] : id_ptr[c + 1]], c)
            n_dist += block.size
            continue
        kids = children[child_ptr[p] : child_ptr[p + 1]]
        kth = best.kth()
        if kth < math.inf:  # d(q, c) >= gap: neither c nor its subtree can enter
            gap = np.abs(dp - parent_dist[kids])
            rk = radius[kids]
            kept = kids[~(gap - rk > kth + PRUNE_RTOL * (gap + rk + dp))]
            n_pruned += kids.size - kept.size
            kids = kept
        for c in kids.tolist():
            rc = float(radius[c])
            kth = best.kth()
            d = _dist(metric, q, points[c])
            n_dist += 1
            if d <= kth and c not in seeded:
                best.add(d, ids[id_ptr[c] : id_ptr[c + 1]], c)
            if rc > 0.0:
                if d - rc <= best.kth() + PRUNE_RTOL * (d + rc):
                    front.push(d - rc, c, d)
                else:
                    n_pruned += 1
    return best, n_dist, n_pruned


def knn(metric, points, radius, parent_dist, child_ptr, children, subtree_end, id_ptr, ids, root,
        Q, k):
    """Exact k nearest neighbours of every row of Q, best-first.

    Each query after the first is seeded with the nodes of the previous
    query's neighbours, as in the compiled kernel (which seeds within each
    chunk of queries it runs).

    Parameters
    ----------
    points, radius, parent_dist : ndarray
        Node coordinates, subtree radii and distances to the parent.
    child_ptr, children, id_ptr, ids : ndarray
        Children and dataset ids of each node in CSR form.
    subtree_end : ndarray
        Where each node's descendants end when they are one run of nodes,
        else -1 (:mod:`sklearn_covertreex.core.blocks`).
    root : int
        The root node.
    Q : ndarray (nq, d)
        Queries.
    k : int
        Number of neighbours.

    Returns
    -------
    (distances, ids, evaluations, pruned) : float64 (nq, k), int64 (nq, k),
        int64 (nq,), int64 (nq,)
        Rows ascending by (distance, id), padded with inf / -1; distance
        evaluations and pruned nodes per query.
    """
    check_width(metric, points.shape[1])
    check_width(metric, Q.shape[1])
    nq = Q.shape[0]
    out_d = np.full((nq, k), np.inf)
    out_i = np.full((nq, k), -1, np.int64)
    evals = np.zeros(nq, np.int64)
    pruned = np.zeros(nq, np.int64)
    seeds = np.empty(0, np.int64)
    for qi in range(nq):
        best, evals[qi], pruned[qi] = _knn_one(
            metric, points, radius, parent_dist, child_ptr, children, subtree_end, id_ptr, ids,
            root, Q[qi], k, seeds)
        seeds = np.unique(best.nodes)
        out_d[qi, : best.d.shape[0]] = best.d
        out_i[qi, : best.i.shape[0]] = best.i
    return out_d, out_i, evals, pruned


def _radius_one(metric, points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, q, r):
    """(distances, ids) of every id within r of q, level by level through the tree."""
    d0 = float(_diff_dists(metric, q, points[root]))
    found_d, found_i = [], []
    if d0 <= r:
        root_ids = ids[id_ptr[root] : id_ptr[root + 1]]
        found_d.append(np.full(root_ids.shape[0], d0))
        found_i.append(root_ids)
    frontier = np.array([root], np.int64)
    front_d = np.array([d0])
    if d0 - radius[root] > r + PRUNE_RTOL * (d0 + radius[root]):
        frontier = frontier[:0]
    while frontier.size:
        pos, owner = _csr_gather(child_ptr, frontier)
        kids = children[pos]
        # |d(q, p) - d(p, c)| <= d(q, c): drop children the parent bound excludes
        dp = front_d[owner]
        gap = np.abs(dp - parent_dist[kids])
        rk = radius[kids]
        kids = kids[gap - rk <= r + PRUNE_RTOL * (gap + rk + dp)]
        d = _diff_dists(metric, q[None, :], points[kids])
        near = d <= r
        pos, owner = _csr_gather(id_ptr, kids[near])
        found_d.append(d[near][owner])
        found_i.append(ids[pos])
        rk = radius[kids]
        go = (rk > 0.0) & (d - rk <= r + PRUNE_RTOL * (d + rk))
        frontier, front_d = kids[go], d[go]
    if not found_d:
        return np.empty(0, np.float64), np.empty(0, np.int64)
    return np.concatenate(found_d), np.concatenate(found_i).astype(np.int64)


def radius_count(metric, points, radius, parent_dist, child_ptr, children, subtree_end, id_ptr, ids,
                 root, Q, r):
    """Number of ids within r[i] of each row Q[i] (int64).

    The level-by-level search expands every subtree (``subtree_end`` is not
    used: it changes only the work, not the answer).
    """
    check_width(metric, points.shape[1])
    check_width(metric, Q.shape[1])
    counts = np.zeros(Q.shape[0], np.int64)
    for i in range(Q.shape[0]):
        d, _ = _radius_one(metric, points, radius, parent_dist, child_ptr, children, id_ptr, ids,
                           root, Q[i], r[i])
        counts[i] = d.shape[0]
    return counts


def radius_fill(metric, points, radius, parent_dist, child_ptr, children, subtree_end, id_ptr, ids,
                root, Q, r, offsets):
    """Distances and ids within r[i] of each Q[i] at offsets[i]:offsets[i+1], rows sorted."""
    check_width(metric, points.shape[1])
    check_width(metric, Q.shape[1])
    out_d = np.empty(offsets[-1], np.float64)
    out_i = np.empty(offsets[-1], np.int64)
    for i in range(Q.shape[0]):
        lo, hi = offsets[i], offsets[i + 1]
        if hi == lo:
            continue
        d, found = _radius_one(metric, points, radius, parent_dist, child_ptr, children, id_ptr,
                               ids, root, Q[i], r[i])
        order = np.lexsort((found[: hi - lo], d[: hi - lo]))
        out_d[lo:hi] = d[: hi - lo][order]
        out_i[lo:hi] = found[: hi - lo][order]
    return out_d, out_i
