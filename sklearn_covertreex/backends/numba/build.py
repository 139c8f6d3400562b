"""Construction kernels (numba): traversal, parents, radii, point and pair distances.

The parallel ones are Python functions that allocate the outputs and run a
GIL-free compiled range kernel over chunks of the rows
(:func:`sklearn_covertreex._parallel.for_chunks`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..._parallel import for_chunks
from ..contract import PRUNE_RTOL
from ..contract import ceil_log2 as _ceil_log2_py
from .distance import _dist, _row_dist, rows
from .heaps import FRONTIER_START, _fpop, _fpush, _grow

#: Fewest points per chunk of a per-point tree search.
SEARCH_GRAIN = 64
#: Fewest distances per chunk of a plain distance loop.
DISTANCE_GRAIN = 8192

#: :func:`sklearn_covertreex.backends.contract.ceil_log2`, compiled.
ceil_log2 = njit(cache=True)(_ceil_log2_py)


@njit(cache=True)
def _next_level(level, child_ptr, children, qn, qc, nq):
    has = False
    jn = 0
    for a in range(nq):
        c = qc[a]
        if c < child_ptr[qn[a] + 1]:
            lc = level[children[c]]
            if (not has) or lc > jn:
                jn = lc
                has = True
    return has, jn


@njit(cache=True)
def _advance(metric, points, level, child_ptr, children, x, qn, qd, qc, nq, jn, bn, bd, bc):
    """Add the level-``jn`` children of the candidates, keep those within 2^(jn+1).

    Writes the new candidate set into (bn, bd, bc), growing them if needed,
    and returns them with the new count. Candidates at distance 0 are
    reported through ``dup`` (the first one found).
    """
    extra = 0
    for a in range(nq):
        c = qc[a]
        end = child_ptr[qn[a] + 1]
        while c < end and level[children[c]] == jn:
            extra += 1
            c += 1
    need = nq + extra
    if bn.shape[0] < need:
        bn = _grow(bn, need)
        bd = _grow(bd, need)
        bc = _grow(bc, need)
    r = math.ldexp(1.0, jn + 1)
    k = 0
    dup = -1
    for a in range(nq):
        p = qn[a]
        c = qc[a]
        end = child_ptr[p + 1]
        while c < end and level[children[c]] == jn:
            ch = children[c]
            d = _dist(metric, x, points, ch)
            if d <= r:
                bn[k] = ch
                bd[k] = d
                bc[k] = child_ptr[ch]
                k += 1
                if d == 0.0 and dup < 0:
                    dup = ch
            c += 1
        if qd[a] <= r:
            bn[k] = p
            bd[k] = qd[a]
            bc[k] = c
            k += 1
    return bn, bd, bc, k, dup


@njit(cache=True)
def _nearest(qn, qd, nq, eligible):
    best = -1
    bestd = np.inf
    for a in range(nq):
        v = qn[a]
        if not eligible[v]:
            continue
        if qd[a] < bestd or (qd[a] == bestd and v < best):
            best = v
            bestd = qd[a]
    return best, bestd


@njit(cache=True)
def _new_bufs():
    return (
        np.empty(64, np.int64), np.empty(64, np.float64), np.empty(64, np.int64),
        np.empty(64, np.int64), np.empty(64, np.float64), np.empty(64, np.int64),
    )


@njit(cache=True, nogil=True)
def _traverse_range(metric, points, cover, radius, parent_dist, child_ptr, children, root, X,
                    out_level, out_parent, out_dup, lo, hi):
    """Insertion level, parent and duplicate of the rows lo:hi of X (see traverse_sparse).

    Each row runs a best-first search for the nearest node y with
    d(x, y) <= 2^level(y) ("covering" x). Descendants of a node c have levels
    below level(c), so they can only cover x if d(x, c) - radius(c) <=
    2^(level(c) - 1); with the best covering distance found so far this
    prunes like a 1-NN search. The search is written inside the loop: numba
    optimises a callee again in its caller, and a helper cost about a second
    of a cold start.
    """
    fk = np.empty(FRONTIER_START, np.float64)
    fn = np.empty(FRONTIER_START, np.int64)
    fd = np.empty(FRONTIER_START, np.float64)
    for i in range(lo, hi):
        x = X[i]
        best = -1
        bestd = np.inf
        dup = -1
        d0 = _dist(metric, x, points, root)
        if d0 == 0.0:
            dup = root
        elif d0 <= cover[root]:
            best = root
            bestd = d0
        fs = 0
        if dup < 0:
            fs = _fpush(fk, fn, fd, 0, d0 - radius[root], root, d0)
        while fs > 0 and dup < 0:
            lb, p, dp, fs = _fpop(fk, fn, fd, fs)
            slack = PRUNE_RTOL * (dp + radius[p])
            if fs + child_ptr[p + 1] - child_ptr[p] > fk.shape[0]:
                need = fs + child_ptr[p + 1] - child_ptr[p]
                fk, fn, fd = _grow(fk, need), _grow(fn, need), _grow(fd, need)
            if lb > bestd + slack:
                break
            if lb > 0.5 * cover[p] + slack:
                continue
            for t in range(child_ptr[p], child_ptr[p + 1]):
                c = children[t]
                rc = radius[c]
                # |d(x, p) - d(p, c)| <= d(x, c): skip c unevaluated when even the
                # bound says neither c nor its subtree can cover x better
                gap = abs(dp - parent_dist[c])
                cc = cover[c]
                if gap - rc > min(bestd, cc) + PRUNE_RTOL * (gap + rc + dp):
                    continue
                d = _dist(metric, x, points, c)
                if d == 0.0:
                    dup = c
                    break
                if d <= cc and (d < bestd or (d == bestd and c < best)):
                    best = c
                    bestd = d
                if rc > 0.0:
                    lim = min(bestd, 0.5 * cc)
                    if d - rc <= lim + PRUNE_RTOL * (d + rc):
                        fs = _fpush(fk, fn, fd, fs, d - rc, c, d)
        if dup >= 0:
            out_dup[i] = dup
        else:
            out_parent[i] = best
            out_level[i] = ceil_log2(bestd) - 1


def traverse_sparse(metric, points, level, radius, parent_dist, child_ptr, children, root, X):
    """For each row of X: insertion level, parent node and duplicate node (-1 if none).

    The parent is the nearest node y with d(x, y) <= 2^level(y) (ties: the
    smaller index) and the level is ceil(log2 d(x, parent)) - 1, the lowest
    level that keeps separation (see doc/algorithm.md).
    """
    points, X = rows(metric, points), rows(metric, X)
    n = X.shape[0]
    out_level = np.zeros(n, np.int64)
    out_parent = np.full(n, -1, np.int64)
    out_dup = np.full(n, -1, np.int64)
    cover = np.ldexp(1.0, level)  # 2^level, once: math.ldexp is a library call per use
    for_chunks(_traverse_range, n, (metric, points, cover, radius, parent_dist, child_ptr,
                                    children, root, X, out_level, out_parent, out_dup),
               grain=SEARCH_GRAIN)
    return out_level, out_parent, out_dup


@njit(cache=True)
def _raise_radii(metric, points, parent, radius, nodes):
    for v in nodes:
        a = parent[v]
        while a >= 0:
            d = _row_dist(metric, points, v, points, a)
            if d > radius[a]:
                radius[a] = d
            a = parent[a]


def update_radii(metric, points, parent, radius, nodes):
    """Raise the subtree radius of every ancestor of ``nodes`` (in place)."""
    _raise_radii(metric, rows(metric, points), parent, radius, np.asarray(nodes, np.int64))


@njit(cache=True, nogil=True)
def _find_parents_range(metric, points, level, child_ptr, children, root, X, target, eligible,
                        out, lo, hi):
    qn, qd, qc, bn, bd, bc = _new_bufs()
    for i in range(lo, hi):
        x = X[i]
        t = target[i]
        qn[0] = root
        qd[0] = _dist(metric, x, points, root)
        qc[0] = child_ptr[root]
        nq = 1
        if level[root] < t:
            continue
        while nq > 0:
            has, jn = _next_level(level, child_ptr, children, qn, qc, nq)
            if (not has) or jn < t:
                break
            bn, bd, bc, nq, _ = _advance(metric,
                points, level, child_ptr, children, x, qn, qd, qc, nq, jn, bn, bd, bc
            )
            qn, qd, qc, bn, bd, bc = bn, bd, bc, qn, qd, qc
        par, m = _nearest(qn, qd, nq, eligible)
        if par >= 0 and m <= math.ldexp(1.0, t):
            out[i] = par


def find_parents(metric, points, level, child_ptr, children, root, X, target, eligible):
    """For each row i of X: the nearest eligible node in C_target[i] within 2^target[i].

    Returns -1 where there is none. Non-eligible nodes are still used to
    navigate (they keep the old tree's geometry).
    """
    points, X = rows(metric, points), rows(metric, X)
    out = np.full(X.shape[0], -1, np.int64)
    for_chunks(_find_parents_range, X.shape[0], (metric, points, level, child_ptr, children, root,
                                                 X, target, eligible, out), grain=SEARCH_GRAIN)
    return out


@njit(cache=True, nogil=True)
def _pair_distances_range(metric, A, ia, B, ib, out, lo, hi):
    for t in range(lo, hi):
        out[t] = _row_dist(metric, A, ia[t], B, ib[t])


def pair_distances(metric, A, ia, B, ib):
    """Distances between rows ``A[ia[t]]`` and ``B[ib[t]]``."""
    A, B = rows(metric, A), rows(metric, B)
    out = np.empty(ia.shape[0], np.float64)
    for_chunks(_pair_distances_range, ia.shape[0], (metric, A, ia, B, ib, out),
               grain=DISTANCE_GRAIN)
    return out


def distances_to_point(metric, A, x):
    """Distances from x to every row of A.

    Runs the pair-distance kernel against the one row (index arrays of
    ``2 * len(A)`` integers): a kernel of its own cost about a second of a
    cold start.
    """
    n = A.shape[0]
    return pair_distances(metric, A, np.arange(n, dtype=np.int64), np.asarray(x)[None, :],
                          np.zeros(n, np.int64))


def subtree_radii(metric, points, parent):
    """Exact subtree radius: largest distance from each node to a descendant."""
    radius = np.zeros(parent.shape[0], np.float64)
    _raise_radii(metric, rows(metric, points), parent, radius,
                 np.arange(parent.shape[0], dtype=np.int64))
    return radius
