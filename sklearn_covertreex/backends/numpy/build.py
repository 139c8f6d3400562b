"""Construction kernels (numpy reference): traversal, parents, radii, distances."""

from __future__ import annotations

import math

import numpy as np

from ..contract import PRUNE_RTOL, ceil_log2
from ._arrays import _csr_gather, ancestor_generations
from .distance import _diff_dists, _dist, check_width
from .heaps import _Frontier


def _next_level(level, child_ptr, children, qn, qc) -> int | None:
    """Highest level among the un-expanded children of the candidates (None if none)."""
    open_ = qc < child_ptr[qn + 1]
    if not open_.any():
        return None
    return int(level[children[qc[open_]]].max())


def _advance(metric, points, level, child_ptr, children, x, qn, qd, qc, jn):
    """Add the level-``jn`` children of the candidates, keep those within 2^(jn+1).

    Returns the new (nodes, distances, cursors). Children are sorted by level
    descending and no un-expanded child is above ``jn``, so the level-``jn``
    ones come first.
    """
    pos, owner = _csr_gather(child_ptr, qn, qc)
    hit = level[children[pos]] == jn
    pos, owner = pos[hit], owner[hit]
    new = children[pos]
    d_new = _diff_dists(metric, x[None, :], points[new])
    cursor = qc + np.bincount(owner, minlength=qn.shape[0])
    r = math.ldexp(1.0, jn + 1)
    keep_old = qd <= r
    keep_new = d_new <= r
    qn = np.concatenate([qn[keep_old], new[keep_new]])
    qd = np.concatenate([qd[keep_old], d_new[keep_new]])
    qc = np.concatenate([cursor[keep_old], child_ptr[new[keep_new]]])
    return qn, qd, qc


def _nearest(qn, qd, eligible) -> tuple[int, float]:
    """Nearest eligible candidate, ties to the smallest node: (node, distance) or (-1, inf).

    ``eligible`` is a mask over nodes, None for all.
    """
    ok = np.ones(qn.shape[0], bool) if eligible is None else eligible[qn]
    if not ok.any():
        return -1, math.inf
    n, d = qn[ok], qd[ok]
    a = np.lexsort((n, d))[0]
    return int(n[a]), float(d[a])


def _covering_search(metric, points, level, radius, parent_dist, child_ptr, children, root, x):
    """Nearest node y with d(x, y) <= 2^level(y) ("covering" x), best-first.

    Nodes are expanded in increasing order of the lower bound
    ``d(x, p) - radius(p)`` on the distance to their descendants.
    Descendants of a node c have levels below level(c), so they can only
    cover x if d(x, c) - radius(c) <= 2^(level(c) - 1); together with the
    best covering distance so far this prunes like a 1-NN search. A child c
    is skipped without evaluating d(x, c) when the triangle-inequality bound
    ``|d(x, p) - d(p, c)| <= d(x, c)`` already rules out c and its subtree.

    Returns
    -------
    (node, distance, duplicate) : int, float, int
        ``node`` is -1 (distance inf) when nothing covers x; ``duplicate`` is
        a node at distance 0 from x, or -1.
    """
    root = int(root)
    d0 = _dist(metric, x, points[root])
    if d0 == 0.0:
        return root, 0.0, root
    best, bestd = (root, d0) if d0 <= math.ldexp(1.0, int(level[root])) else (-1, math.inf)
    front = _Frontier()
    front.push(d0 - radius[root], root, d0)
    while front:
        lb, p, dp = front.pop()
        slack = PRUNE_RTOL * (dp + radius[p])
        if lb > bestd + slack:
            break  # every remaining subtree is farther than the best cover
        if lb > math.ldexp(1.0, int(level[p]) - 1) + slack:
            continue  # nothing below p is close enough to cover x
        kids = children[child_ptr[p] : child_ptr[p + 1]]
        rk = radius[kids]
        # skip children that the parent-distance bound rules out unevaluated
        gap = np.abs(dp - parent_dist[kids])
        reach = np.minimum(bestd, np.ldexp(1.0, level[kids]))
        keep = ~(gap - rk > reach + PRUNE_RTOL * (gap + rk + dp))
        kids, rk = kids[keep], rk[keep]
        dk = _diff_dists(metric, x[None, :], points[kids])
        zero = np.flatnonzero(dk == 0.0)
        if zero.size:
            return int(kids[zero[0]]), 0.0, int(kids[zero[0]])
        covers = dk <= np.ldexp(1.0, level[kids])
        if covers.any():
            c, d = _nearest(kids[covers], dk[covers], None)
            if d < bestd or (d == bestd and c < best):
                best, bestd = c, d
        lim = np.minimum(bestd, np.ldexp(1.0, level[kids] - 1))
        grow = (rk > 0.0) & (dk - rk <= lim + PRUNE_RTOL * (dk + rk))
        for c, d, r in zip(kids[grow].tolist(), dk[grow].tolist(), rk[grow].tolist(), strict=True):
            front.push(d - r, c, d)
    return best, bestd, -1


def traverse_sparse(metric, points, level, radius, parent_dist, child_ptr, children, root, X):
    """For each row of X: insertion level, parent node and duplicate node (-1 if none).

    The parent is the nearest node y with d(x, y) <= 2^level(y) (ties: the
    smaller index) and the level is ceil(log2 d(x, parent)) - 1, the lowest
    level that keeps separation (see doc/algorithm.md).

    Parameters
    ----------
    points, level, radius, parent_dist : ndarray
        Node coordinates, levels, subtree radii and distances to the parent.
    child_ptr, children : ndarray
        Children of each node in CSR form, levels descending.
    root : int
        The root node.
    X : ndarray (n, d)
        Points to place.

    Returns
    -------
    (level, parent, dup) : three int64 arrays of length ``len(X)``.
        A duplicate gets level 0 and parent -1; a point nothing covers gets
        level -1 and parent -1.
    """
    check_width(metric, points.shape[1])
    check_width(metric, X.shape[1])
    n = X.shape[0]
    out_level = np.zeros(n, np.int64)
    out_parent = np.full(n, -1, np.int64)
    out_dup = np.full(n, -1, np.int64)
    for i in range(n):
        best, bestd, dup = _covering_search(metric,
            points, level, radius, parent_dist, child_ptr, children, root, X[i]
        )
        if dup >= 0:
            out_dup[i] = dup
        else:
            out_parent[i] = best
            out_level[i] = ceil_log2(bestd) - 1
    return out_level, out_parent, out_dup


def update_radii(metric, points, parent, radius, nodes) -> None:
    """Raise the subtree radius of every ancestor of ``nodes`` (in place)."""
    check_width(metric, points.shape[1])
    start = np.asarray(nodes, np.int64)
    for node, anc in ancestor_generations(parent, start, parent[start]):
        np.maximum.at(radius, anc, _diff_dists(metric, points[node], points[anc]))


def find_parents(metric, points, level, child_ptr, children, root, X, target, eligible):
    """For each row i of X: the nearest eligible node in C_target[i] within 2^target[i].

    Returns an int64 array, -1 where there is none. Non-eligible nodes are
    still used to navigate (they keep the old tree's geometry).
    """
    check_width(metric, points.shape[1])
    check_width(metric, X.shape[1])
    n = X.shape[0]
    out = np.full(n, -1, np.int64)
    eligible = np.asarray(eligible, bool)
    for i in range(n):
        x, t = X[i], int(target[i])
        if level[root] < t:
            continue
        qn, qc = np.array([root], np.int64), child_ptr[[root]].astype(np.int64)
        qd = _diff_dists(metric, x[None, :], points[qn])
        while qn.shape[0] > 0:
            jn = _next_level(level, child_ptr, children, qn, qc)
            if jn is None or jn < t:
                break
            qn, qd, qc = _advance(metric, points, level, child_ptr, children, x, qn, qd, qc, jn)
        par, m = _nearest(qn, qd, eligible)
        if par >= 0 and m <= math.ldexp(1.0, t):
            out[i] = par
    return out


def pair_distances(metric, A, ia, B, ib):
    """Distances between rows ``A[ia[t]]`` and ``B[ib[t]]`` (float64)."""
    check_width(metric, A.shape[1])
    check_width(metric, B.shape[1])
    return _diff_dists(metric, A[np.asarray(ia, np.int64)], B[np.asarray(ib, np.int64)])


def distances_to_point(metric, A, x):
    """Distances from x to every row of A (float64)."""
    check_width(metric, A.shape[1])
    check_width(metric, np.shape(x)[0])
    return _diff_dists(metric, A, np.asarray(x)[None, :])


def subtree_radii(metric, points, parent):
    """Exact subtree radius: largest distance from each node to a descendant."""
    check_width(metric, points.shape[1])
    radius = np.zeros(parent.shape[0], np.float64)
    update_radii(metric, points, parent, radius, np.arange(parent.shape[0]))
    return radius
