"""Construction kernels (CUDA): traversal, parents, radii, point and pair distances.

The searches (``traverse_sparse``, ``find_parents``) run a thread per point
with the numba kernels' tests (:mod:`sklearn_covertreex.backends.numba.build`),
their frontiers or candidate sets in fixed-capacity scratch slices, rerun
with twice the capacity on overflow; radii are raised with atomic maxima,
one thread per node walking up its ancestors, so they are the same maxima
in any thread order.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda

from ..contract import PRUNE_RTOL, ceil_log2_array
from ._device import filled, launch, rerun_overflowing, to_device, to_host
from .distance import check_width, row_dist
from .heaps import fpop, fpush

#: Starting capacity of a traversal frontier and of a descent's candidate set.
FRONTIER0 = 64


@cuda.jit
def _traverse_kernel(points, cover, radius, parent_dist, child_ptr, children, root, X, rows,
                     fk, fn, fd, out_parent, out_dist, out_dup, over):
    """Nearest covering node (or duplicate) of the rows ``rows`` of X (see traverse_sparse)."""
    t = cuda.grid(1)
    if t >= rows.shape[0]:
        return
    i = rows[t]
    over[t] = False
    sk = fk[t]
    sn = fn[t]
    sd = fd[t]
    cap = sk.shape[0]
    best = -1
    bestd = np.inf
    dup = -1
    d0 = row_dist(X, i, points, root)
    if d0 == 0.0:
        dup = root
    elif d0 <= cover[root]:
        best = root
        bestd = d0
    fs = 0
    if dup < 0:
        fs = fpush(sk, sn, sd, 0, d0 - radius[root], root, d0)
    while fs > 0 and dup < 0:
        lb, p, dp, fs = fpop(sk, sn, sd, fs)
        slack = PRUNE_RTOL * (dp + radius[p])
        if lb > bestd + slack:
            break
        if lb > 0.5 * cover[p] + slack:
            continue
        if fs + child_ptr[p + 1] - child_ptr[p] > cap:
            over[t] = True
            return
        for e in range(child_ptr[p], child_ptr[p + 1]):
            c = children[e]
            rc = radius[c]
            # |d(x, p) - d(p, c)| <= d(x, c): skip c unevaluated when even the
            # bound says neither c nor its subtree can cover x better
            gap = abs(dp - parent_dist[c])
            cc = cover[c]
            if gap - rc > min(bestd, cc) + PRUNE_RTOL * (gap + rc + dp):
                continue
            d = row_dist(X, i, points, c)
            if d == 0.0:
                dup = c
                break
            if d <= cc and (d < bestd or (d == bestd and c < best)):
                best = c
                bestd = d
            if rc > 0.0:
                lim = min(bestd, 0.5 * cc)
                if d - rc <= lim + PRUNE_RTOL * (d + rc):
                    fs = fpush(sk, sn, sd, fs, d - rc, c, d)
    out_dup[i] = dup
    out_parent[i] = best if dup < 0 else -1
    out_dist[i] = bestd


def traverse_sparse(metric, points, level, radius, parent_dist, child_ptr, children, root, X):
    """For each row of X: insertion level, parent node and duplicate node (-1 if none).

    The parent is the nearest node y with ``d(x, y) <= 2**level(y)`` (ties:
    the smaller index) and the level ``ceil_log2(d(x, parent)) - 1``; a
    duplicate gets level 0 and parent -1, a point nothing covers level -1.
    """
    check_width(metric, points.shape[1])
    check_width(metric, X.shape[1])
    n = X.shape[0]
    cover = np.ldexp(1.0, np.asarray(level, np.int64))
    args = (to_device(points), to_device(cover), to_device(radius, np.float64),
            to_device(parent_dist, np.float64), to_device(child_ptr, np.int64),
            to_device(children, np.int64), int(root), to_device(X))
    out_parent, out_dup = filled(n, -1, np.int64), filled(n, -1, np.int64)
    out_dist = filled(n, np.inf, np.float64)

    def run(rows, cap):
        m = rows.shape[0]
        over = filled(m, False, np.bool_)
        fk, fn, fd = (cuda.device_array((m, cap), dt) for dt in (np.float64, np.int64,
                                                                   np.float64))
        launch(_traverse_kernel, m, *args, rows, fk, fn, fd, out_parent, out_dist, out_dup, over)
        return to_host(over)

    rerun_overflowing(run, n, FRONTIER0)
    parent, dup, dist = to_host(out_parent), to_host(out_dup), to_host(out_dist)
    out_level = np.zeros(n, np.int64)
    node = (dup < 0) & (parent >= 0)
    out_level[node] = ceil_log2_array(dist[node]) - 1
    out_level[(dup < 0) & (parent < 0)] = -1
    return out_level, parent, dup


@cuda.jit(device=True)
def _next_level(level, child_ptr, children, qn, qc, nq):
    """The highest level among the next children of the candidates: (found, level)."""
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


@cuda.jit
def _parents_kernel(points, level, child_ptr, children, root, X, target, eligible, rows,
                    cn, cd, cc, out, over):
    """Nearest eligible node in C_target of the rows ``rows`` of X (see find_parents).

    The candidate sets of consecutive levels alternate between the two
    halves ``cn[t, 0]`` and ``cn[t, 1]`` (nodes; ``cd`` distances, ``cc``
    cursors into the children of each).
    """
    t = cuda.grid(1)
    if t >= rows.shape[0]:
        return
    i = rows[t]
    over[t] = False
    tg = target[i]
    if level[root] < tg:
        return
    cap = cn.shape[2]
    cur = 0
    cn[t, 0, 0] = root
    cd[t, 0, 0] = row_dist(X, i, points, root)
    cc[t, 0, 0] = child_ptr[root]
    nq = 1
    while nq > 0:
        qn, qd, qc = cn[t, cur], cd[t, cur], cc[t, cur]
        has, jn = _next_level(level, child_ptr, children, qn, qc, nq)
        if (not has) or jn < tg:
            break
        bn, bd, bc = cn[t, 1 - cur], cd[t, 1 - cur], cc[t, 1 - cur]
        # the level-jn children of the candidates, and the candidates, within 2^(jn + 1)
        r = math.ldexp(1.0, int(jn + 1))  # int(): the simulator runs Python's ldexp
        k = 0
        for a in range(nq):
            p = qn[a]
            c = qc[a]
            end = child_ptr[p + 1]
            while c < end and level[children[c]] == jn:
                ch = children[c]
                d = row_dist(X, i, points, ch)
                if d <= r:
                    if k >= cap:
                        over[t] = True
                        return
                    bn[k] = ch
                    bd[k] = d
                    bc[k] = child_ptr[ch]
                    k += 1
                c += 1
            if qd[a] <= r:
                if k >= cap:
                    over[t] = True
                    return
                bn[k] = p
                bd[k] = qd[a]
                bc[k] = c
                k += 1
        nq = k
        cur = 1 - cur
    qn, qd = cn[t, cur], cd[t, cur]
    best = -1
    bestd = np.inf
    for a in range(nq):
        v = qn[a]
        if eligible[v] and (qd[a] < bestd or (qd[a] == bestd and v < best)):
            best = v
            bestd = qd[a]
    if best >= 0 and bestd <= math.ldexp(1.0, int(tg)):
        out[i] = best


def find_parents(metric, points, level, child_ptr, children, root, X, target, eligible):
    """For each row i of X: the nearest eligible node in ``C_target[i]`` within ``2**target[i]``.

    Returns -1 where there is none; non-eligible nodes still guide the descent.
    """
    check_width(metric, points.shape[1])
    check_width(metric, X.shape[1])
    n = X.shape[0]
    args = (to_device(points), to_device(level, np.int64), to_device(child_ptr, np.int64),
            to_device(children, np.int64), int(root), to_device(X),
            to_device(target, np.int64), to_device(eligible, np.bool_))
    out = filled(n, -1, np.int64)

    def run(rows, cap):
        m = rows.shape[0]
        over = filled(m, False, np.bool_)
        cn, cd, cc = (cuda.device_array((m, 2, cap), dt) for dt in (np.int64, np.float64,
                                                                      np.int64))
        launch(_parents_kernel, m, *args, rows, cn, cd, cc, out, over)
        return to_host(over)

    rerun_overflowing(run, n, FRONTIER0)
    return to_host(out)


@cuda.jit
def _raise_radii_kernel(points, parent, radius, nodes):
    """Raise the radius of every ancestor of ``nodes[t]`` to its distance (atomic maximum)."""
    t = cuda.grid(1)
    if t >= nodes.shape[0]:
        return
    v = nodes[t]
    a = parent[v]
    while a >= 0:
        cuda.atomic.max(radius, a, row_dist(points, v, points, a))
        a = parent[a]


def update_radii(metric, points, parent, radius, nodes):
    """Raise the subtree radius of every ancestor of ``nodes`` (in place)."""
    check_width(metric, points.shape[1])
    nodes = np.asarray(nodes, np.int64)
    rd = to_device(radius, np.float64)
    launch(_raise_radii_kernel, nodes.shape[0], to_device(points), to_device(parent, np.int64),
           rd, to_device(nodes))
    radius[:] = to_host(rd)


def subtree_radii(metric, points, parent):
    """Exact subtree radius: largest distance from each node to a descendant."""
    radius = np.zeros(np.shape(parent)[0], np.float64)
    update_radii(metric, points, parent, radius, np.arange(radius.shape[0], dtype=np.int64))
    return radius


@cuda.jit
def _pair_kernel(A, ia, B, ib, out):
    t = cuda.grid(1)
    if t < ia.shape[0]:
        out[t] = row_dist(A, ia[t], B, ib[t])


def pair_distances(metric, A, ia, B, ib):
    """Distances between rows ``A[ia[t]]`` and ``B[ib[t]]`` (float64)."""
    check_width(metric, A.shape[1])
    check_width(metric, B.shape[1])
    m = np.shape(ia)[0]
    out = cuda.device_array(m, np.float64)
    launch(_pair_kernel, m, to_device(A), to_device(ia, np.int64), to_device(B),
           to_device(ib, np.int64), out)
    return to_host(out)


def distances_to_point(metric, A, x):
    """Distances from the row ``x`` to every row of ``A`` (float64)."""
    n = np.shape(A)[0]
    return pair_distances(metric, A, np.arange(n, dtype=np.int64), np.asarray(x)[None, :],
                          np.zeros(n, np.int64))
