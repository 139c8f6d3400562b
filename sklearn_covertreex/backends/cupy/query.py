"""Query kernels (CUDA): exact best-first k-NN and depth-first radius search, a thread per query.

Each thread runs the search of the numba kernels for one query
(:mod:`sklearn_covertreex.backends.numba.query`) with the same pruning
tests and slack, its frontier (k-NN) or stack (radius) in a fixed-capacity
slice of a scratch array; a query that outgrows it is rerun with twice the
capacity (:func:`._device.rerun_overflowing`). Answers, ties and duplicates
included, equal numba's. Queries are not seeded with the previous query's
neighbours as on the CPU (threads run side by side), nor do they scan small
subtrees as one run (``subtree_end`` is taken and not used), so the
distance evaluations and pruned counts differ from numba's.
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from ..contract import PRUNE_RTOL
from ._device import filled, launch, rerun_overflowing, to_device, to_host
from .distance import check_width, row_dist
from .heaps import fpop, fpush, heap_push, heap_sort, sort_pairs

#: Starting capacity of a query's frontier or stack.
FRONTIER0 = 64


@cuda.jit
def _knn_kernel(points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, Q, rows, k,
                fk, fn, fd, out_d, out_i, evals, pruned, over):
    t = cuda.grid(1)
    if t >= rows.shape[0]:
        return
    i = rows[t]
    hd = out_d[i]
    hx = out_i[i]
    sk = fk[t]
    sn = fn[t]
    sd = fd[t]
    cap = sk.shape[0]
    size = 0
    d0 = row_dist(Q, i, points, root)
    n_dist = 1
    for u in range(id_ptr[root], id_ptr[root + 1]):
        size = heap_push(hd, hx, size, k, d0, ids[u])
    n_pruned = 0
    fs = 0
    if radius[root] > 0.0:
        fs = fpush(sk, sn, sd, 0, d0 - radius[root], root, d0)
    while fs > 0:
        lb, p, dp, fs = fpop(sk, sn, sd, fs)
        kth = hd[0] if size == k else np.inf
        if lb > kth + PRUNE_RTOL * (dp + radius[p]):
            n_pruned += fs + 1
            break
        if fs + child_ptr[p + 1] - child_ptr[p] > cap:
            over[t] = True
            return
        for e in range(child_ptr[p], child_ptr[p + 1]):
            c = children[e]
            rc = radius[c]
            if size == k:
                # |d(q, p) - d(p, c)| <= d(q, c): skip c unevaluated when possible
                gap = abs(dp - parent_dist[c])
                if gap - rc > hd[0] + PRUNE_RTOL * (gap + rc + dp):
                    n_pruned += 1
                    continue
            d = row_dist(Q, i, points, c)
            n_dist += 1
            if size < k or d <= hd[0]:
                for u in range(id_ptr[c], id_ptr[c + 1]):
                    size = heap_push(hd, hx, size, k, d, ids[u])
            if rc > 0.0:
                kth = hd[0] if size == k else np.inf
                if d - rc <= kth + PRUNE_RTOL * (d + rc):
                    fs = fpush(sk, sn, sd, fs, d - rc, c, d)
                else:
                    n_pruned += 1
    heap_sort(hd, hx, size)
    for s in range(size, k):
        hd[s] = np.inf
        hx[s] = -1
    evals[i] = n_dist
    pruned[i] = n_pruned
    over[t] = False


def _tree_on_device(points, radius, parent_dist, child_ptr, children, id_ptr, ids):
    return (to_device(points), to_device(radius, np.float64), to_device(parent_dist, np.float64),
            to_device(child_ptr, np.int64), to_device(children, np.int64),
            to_device(id_ptr, np.int64), to_device(ids, np.int64))


def knn(metric, points, radius, parent_dist, child_ptr, children, subtree_end, id_ptr, ids, root,
        Q, k):
    """Exact k nearest neighbours of every row of Q.

    Returns (distances (nq, k), ids (nq, k), distance evaluations (nq,),
    pruned nodes (nq,)), rows ascending by (distance, id), padded with inf / -1.
    """
    check_width(metric, points.shape[1])
    check_width(metric, Q.shape[1])
    nq, k = Q.shape[0], int(k)
    tree = _tree_on_device(points, radius, parent_dist, child_ptr, children, id_ptr, ids)
    Qd = to_device(Q)
    out_d, out_i = filled((nq, k), np.inf, np.float64), filled((nq, k), -1, np.int64)
    evals, pruned = filled(nq, 0, np.int64), filled(nq, 0, np.int64)

    def run(rows, cap):
        m = rows.shape[0]
        over = filled(m, False, np.bool_)
        fk, fn, fd = (cuda.device_array((m, cap), dt) for dt in (np.float64, np.int64,
                                                                   np.float64))
        launch(_knn_kernel, m, *tree, int(root), Qd, rows, k, fk, fn, fd, out_d, out_i, evals,
               pruned, over)
        return to_host(over)

    if k > 0:
        rerun_overflowing(run, nq, FRONTIER0)
    return to_host(out_d), to_host(out_i), to_host(evals), to_host(pruned)


@cuda.jit
def _radius_kernel(points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, Q, r,
                   rows, sn, sd, counts, offsets, out_d, out_i, over):
    """Ids within r[i] of the queries ``rows``: counted (``out_d`` empty), or written at offsets."""
    t = cuda.grid(1)
    if t >= rows.shape[0]:
        return
    i = rows[t]
    fill = out_d.shape[0] > 0
    base = offsets[i] if fill else 0
    over[t] = False
    if fill and offsets[i + 1] == base:
        return
    sn_t = sn[t]
    sd_t = sd[t]
    cap = sn_t.shape[0]
    ri = r[i]
    count = 0
    d0 = row_dist(Q, i, points, root)
    if d0 <= ri:
        for u in range(id_ptr[root], id_ptr[root + 1]):
            if fill:
                out_d[base + count] = d0
                out_i[base + count] = ids[u]
            count += 1
    top = 0
    if d0 - radius[root] <= ri + PRUNE_RTOL * (d0 + radius[root]):
        sn_t[0] = root
        sd_t[0] = d0
        top = 1
    while top > 0:
        top -= 1
        p = sn_t[top]
        dp = sd_t[top]
        for e in range(child_ptr[p], child_ptr[p + 1]):
            c = children[e]
            rc = radius[c]
            # |d(q, p) - d(p, c)| <= d(q, c): skip c and its subtree unevaluated
            gap = abs(dp - parent_dist[c])
            if gap - rc > ri + PRUNE_RTOL * (gap + rc + dp):
                continue
            d = row_dist(Q, i, points, c)
            if d <= ri:
                for u in range(id_ptr[c], id_ptr[c + 1]):
                    if fill:
                        out_d[base + count] = d
                        out_i[base + count] = ids[u]
                    count += 1
            if rc > 0.0 and d - rc <= ri + PRUNE_RTOL * (d + rc):
                if top >= cap:
                    over[t] = True
                    return
                sn_t[top] = c
                sd_t[top] = d
                top += 1
    if fill:
        sort_pairs(out_d, out_i, base, count)
    else:
        counts[i] = count


def _radius(metric, points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, Q, r,
            offsets):
    """Run the radius kernel: counts (``offsets`` None) or (distances, ids) at the offsets."""
    check_width(metric, points.shape[1])
    check_width(metric, Q.shape[1])
    nq = Q.shape[0]
    tree = _tree_on_device(points, radius, parent_dist, child_ptr, children, id_ptr, ids)
    Qd, rd = to_device(Q), to_device(r, np.float64)
    counts = filled(nq, 0, np.int64)
    total = 0 if offsets is None else int(offsets[-1])
    offd = to_device(np.zeros(nq + 1, np.int64) if offsets is None else offsets, np.int64)
    out_d, out_i = cuda.device_array(total, np.float64), cuda.device_array(total, np.int64)

    def run(rows, cap):
        m = rows.shape[0]
        over = filled(m, False, np.bool_)
        sn, sd = cuda.device_array((m, cap), np.int64), cuda.device_array((m, cap), np.float64)
        launch(_radius_kernel, m, *tree, int(root), Qd, rd, rows, sn, sd, counts, offd, out_d,
               out_i, over)
        return to_host(over)

    if offsets is None or total > 0:
        rerun_overflowing(run, nq, FRONTIER0)
    if offsets is None:
        return to_host(counts)
    return to_host(out_d), to_host(out_i)


def radius_count(metric, points, radius, parent_dist, child_ptr, children, subtree_end, id_ptr, ids,
                 root, Q, r):
    """Number of ids within ``r[i]`` (inclusive) of each row ``Q[i]``."""
    return _radius(metric, points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, Q,
                   r, None)


def radius_fill(metric, points, radius, parent_dist, child_ptr, children, subtree_end, id_ptr, ids,
                root, Q, r, offsets):
    """Distances and ids within ``r[i]`` of each ``Q[i]``, at ``offsets[i]``, rows sorted."""
    return _radius(metric, points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, Q,
                   r, np.asarray(offsets, np.int64))
