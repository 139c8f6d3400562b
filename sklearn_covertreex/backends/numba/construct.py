"""Depth-first batch construction (numba): the whole tree of a set of rows in one pass.

The batch construction of Beygelzimer, Kakade and Langford rewritten for the
compressed tree (the algorithm and why its tree is valid:
``doc/algorithm.md``, "Depth-first construction"). One array of row
indices is cut into segments, one per open frame, and a loop over an
explicit stack of frames replaces the recursion (numba cannot load a cached
recursive function). Serial: each new child takes points its earlier
siblings left, so the siblings depend on each other.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ...core.tree import LEVEL_DTYPE, index_dtype
from .build import ceil_log2, distances_to_point
from .distance import _row_dist, rows


@njit(cache=True)
def _swap_blocks(buf, a, b, c):
    """[a,b) X, [b,c) Y -> Y then X (order inside may change)."""
    lx = b - a
    ly = c - b
    if lx <= ly:
        for t in range(lx):
            s = buf[a + t]
            buf[a + t] = buf[c - lx + t]
            buf[c - lx + t] = s
    else:
        for t in range(ly):
            s = buf[a + t]
            buf[a + t] = buf[b + t]
            buf[b + t] = s


#: Relative slack of the triangle-inequality skip: a gap of distances to the
#: parent above ``(1 + GAP_RTOL)`` times the cover radius proves the true
#: distance, and the computed one, are above the cover radius.
GAP_RTOL = 1e-12

#: Phases of a frame of :func:`_construct`.
_ENTER, _AFTER_SKIP, _AFTER_SELF, _AFTER_CHILD = 0, 1, 2, 3


@njit(cache=True)
def _push(stack, top, p, lev, lo, nn, nf):
    """Push an entering frame; return the (possibly grown) stack and the new top."""
    top += 1
    if top == stack.shape[0]:
        grown = np.empty((2 * stack.shape[0], stack.shape[1]), np.int64)
        grown[:top] = stack[:top]
        stack = grown
    stack[top, 0] = p
    stack[top, 1] = lev
    stack[top, 2] = lo
    stack[top, 3] = nn
    stack[top, 4] = nf
    stack[top, 5] = _ENTER
    return stack, top


@njit(cache=True, nogil=True)
def _construct(metric, P, root, top_level, buf, dist, tmp, level, parent, pdist, dup_of,
               max_distances):
    """Place every row of ``buf`` under ``root`` (a loop over an explicit stack of frames).

    A frame ``(p, lev, lo, nn, nf, phase, u, w)`` chooses ``p``'s
    children at levels <= ``lev``: ``buf[lo:lo+nn]`` is its near set (``dist``
    <= 2^(lev+1), the distance to ``p``), the next ``nf`` its far set (up to
    2^(lev+2)); while a child runs, ``u`` counts the candidates left and
    ``w`` is where the child's segment starts. A finished frame leaves its
    unused far points first in its segment and returns their count
    (``ret``) to the frame below.

    Returns the number of distances evaluated; once it passes
    ``max_distances`` (when that is >= 0) the construction stops unfinished.
    """
    stack = np.empty((64, 8), np.int64)
    top = -1
    stack, top = _push(stack, top, root, top_level - 1, 0, buf.shape[0], 0)
    ret = 0
    count = 0
    while top >= 0:
        p = stack[top, 0]
        lev = stack[top, 1]
        lo = stack[top, 2]
        nn = stack[top, 3]
        nf = stack[top, 4]
        phase = stack[top, 5]
        sep = math.ldexp(1.0, lev)
        cov = 2.0 * sep
        if phase == _ENTER:
            w = lo
            for t in range(lo, lo + nn):  # exact duplicates of p
                x = buf[t]
                if dist[x] == 0.0:
                    dup_of[x] = p
                else:
                    buf[t] = buf[w]
                    buf[w] = x
                    w += 1
            if w < lo + nn:
                _swap_blocks(buf, w, lo + nn, lo + nn + nf)
                nn = w - lo
            if nn == 0:
                ret = nf
                top -= 1
                continue
            m = 0.0
            for t in range(lo, lo + nn):
                m = max(m, dist[buf[t]])
            k = ceil_log2(m) - 1
            stack[top, 3] = nn
            if k < lev:  # no child above level k: skip the empty levels
                stack[top, 5] = _AFTER_SKIP
                stack, top = _push(stack, top, p, k, lo, nn, 0)
                continue
            w = lo
            for t in range(lo, lo + nn):  # p's own next level takes the points within sep
                x = buf[t]
                if dist[x] <= sep:
                    buf[t] = buf[w]
                    buf[w] = x
                    w += 1
            stack[top, 5] = _AFTER_SELF
            stack, top = _push(stack, top, p, lev - 1, lo, w - lo, lo + nn - w)
            continue
        if phase == _AFTER_SKIP:
            _swap_blocks(buf, lo, lo + nn, lo + nn + nf)
            ret = nf
            top -= 1
            continue
        if phase == _AFTER_SELF:
            u = ret
            _swap_blocks(buf, lo + u, lo + nn, lo + nn + nf)
            end = lo + u + nf
        else:  # _AFTER_CHILD: the points q left come back to p's candidates or far set
            u = stack[top, 6]
            w = stack[top, 7]
            uq = ret
            end = w
            if uq:
                # [candidates | far | returned]: the returned points within cov of
                # p first, then that block and the far set swap places (moves:
                # the smaller of the two), so the candidates grow in place
                count += uq
                a = w
                for t in range(w, w + uq):
                    x = buf[t]
                    d = _row_dist(metric, P, p, P, x)
                    dist[x] = d
                    if d <= cov:
                        buf[t] = buf[a]
                        buf[a] = x
                        a += 1
                _swap_blocks(buf, lo + u, w, a)
                u += a - w
                end = w + uq
        if u == 0:
            ret = end - lo
            top -= 1
            continue
        # a new child q at level lev: the last candidate
        q = buf[lo + u - 1]
        u -= 1
        buf[lo + u] = buf[end - 1]
        end -= 1
        buf[end] = q
        level[q] = lev
        parent[q] = p
        pdist[q] = dist[q]
        if 0 <= max_distances < count:
            return count
        nt = 0
        w = lo
        unew = 0
        dq = dist[q]
        reach = cov * (1.0 + GAP_RTOL)
        nq = 0
        for t in range(lo, end):  # branch-free partition: q's points to tmp, the rest kept
            x = buf[t]
            # |d(x, p) - d(q, p)| <= d(x, q): a point whose gap exceeds cov (with
            # room for rounding) is not within cov of q; skip its distance
            if abs(dist[x] - dq) > reach:
                d = np.inf
            else:
                d = _row_dist(metric, P, q, P, x)
                count += 1
            took = d <= cov
            # q's points keep their distance to q from here on (p's is
            # recomputed if q returns them); a select, not a branch
            dist[x] = d if took else dist[x]
            tmp[nt] = x
            buf[w] = x
            nt += took
            w += 1 - took
            nq += d <= sep
            if t == lo + u - 1:
                unew = w - lo
        u = unew
        a = w
        b = w + nq
        for t in range(nt):  # q's near set, then its far set
            x = tmp[t]
            near = dist[x] <= sep
            pos = a if near else b
            buf[pos] = x
            a += near
            b += 1 - near
        stack[top, 5] = _AFTER_CHILD
        stack[top, 6] = u
        stack[top, 7] = w
        stack, top = _push(stack, top, q, lev - 1, w, nq, nt - nq)
    return count



@njit(cache=True)
def _nodes_by_level(level, dup_of):
    """The rows that are nodes (``dup_of < 0``), highest level first, ties in row order.

    A counting sort over the levels (a few dozen): linear, and its output
    in the dtype of ``dup_of`` is all the memory it holds.
    """
    top = -(1 << 30)
    bottom = 1 << 30
    m = 0
    for v in range(level.shape[0]):
        if dup_of[v] < 0:
            top = max(top, level[v])
            bottom = min(bottom, level[v])
            m += 1
    nodes = np.empty(m, dup_of.dtype)
    if m == 0:
        return nodes
    starts = np.zeros(top - bottom + 2, np.int64)
    for v in range(level.shape[0]):
        if dup_of[v] < 0:
            starts[top - level[v] + 1] += 1
    for t in range(1, starts.shape[0]):
        starts[t] += starts[t - 1]
    for v in range(level.shape[0]):
        if dup_of[v] < 0:
            slot = top - level[v]
            nodes[starts[slot]] = v
            starts[slot] += 1
    return nodes


@njit(cache=True, nogil=True)
def _subtree_radii(metric, P, parent, pdist, nodes):
    """Exact subtree radius of every row, from the rows ``nodes`` (each one's ancestors).

    The distance from a node to an ancestor is bounded by the parent
    distances summed along the path; where that bound (widened by a
    relative 1e-12 for its rounding) is at most the ancestor's radius so
    far, the distance cannot raise it and is not evaluated. Visiting the
    nodes highest level first raises the radii early.
    """
    radius = np.zeros(P.shape[0])
    for v in nodes:
        bound = 0.0
        c = v
        a = parent[v]
        while a >= 0:
            bound += pdist[c]
            if bound * (1.0 + 1e-12) > radius[a]:
                d = _row_dist(metric, P, v, P, a)
                if d > radius[a]:
                    radius[a] = d
            c = a
            a = parent[a]
    return radius


def construct_depth_first(metric, X, order, max_distances=-1):
    """Level, parent, parent distance and duplicate owner of every row of ``X``.

    Parameters
    ----------
    metric : KernelMetric
        The kernel metric of the rows.
    X : ndarray of shape (n, width)
        The rows (n >= 1).
    order : ndarray of shape (n,), integer
        A permutation of the rows: ``order[0]`` becomes the root, the others
        are taken as new children in an order derived from it.
    max_distances : int
        Stop once this many distances have been evaluated (-1: never).

    Returns
    -------
    level, parent, parent_dist, radius, dup_of : ndarrays of shape (n,)
        For every row: its node's level, the row of its parent (-1 at the
        root and for duplicates), the distance to that parent, the exact
        subtree radius (0 for duplicates), and for an exact duplicate of a
        node the row of that node (-1 for nodes). Levels are
        :data:`~sklearn_covertreex.core.tree.LEVEL_DTYPE`, rows
        :func:`~sklearn_covertreex.core.tree.index_dtype`.
    n_distances : int
        Distances evaluated; above ``max_distances`` (when that is >= 0)
        the construction stopped and the other outputs are unfinished.
    """
    n = X.shape[0]
    index = index_dtype(n + 1)
    P = rows(metric, X)
    root = int(order[0])
    dist = distances_to_point(metric, X, X[root])
    level = np.zeros(n, LEVEL_DTYPE)
    parent = np.full(n, -1, index)
    parent_dist = np.zeros(n)
    dup_of = np.full(n, -1, index)
    buf = np.array(order[1:], dtype=index)  # a copy: the kernel permutes it
    dmax = float(dist.max())
    top = ceil_log2(dmax) if dmax > 0 else 0
    level[root] = top
    count = _construct(metric, P, root, top, buf, dist, np.empty(n, index), level, parent,
                       parent_dist, dup_of, int(max_distances))
    del buf, dist  # before the radii's own arrays
    if 0 <= max_distances < count:
        return level, parent, parent_dist, np.zeros(n), dup_of, n + count
    radius = _subtree_radii(metric, P, parent, parent_dist, _nodes_by_level(level, dup_of))
    return level, parent, parent_dist, radius, dup_of, n + count
