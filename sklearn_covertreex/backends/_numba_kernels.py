"""Plain-array numba kernels (Euclidean metric).

Every kernel is lazily compiled with ``cache=True``, so it accepts read-only,
float32 and Fortran-ordered arrays, is compiled once per signature and then
reused from the on-disk cache. No kernel keeps state between calls.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

# Relative slack used when comparing a lower bound with a current k-th
# distance: pruning only happens when the bound exceeds it by more than the
# rounding error of the distances involved, so no true neighbour is lost.
PRUNE_RTOL = 1e-12


@njit(cache=True, inline="always")
def _dist(x, points, j):
    s = 0.0
    for t in range(x.shape[0]):
        diff = x[t] - points[j, t]
        s += diff * diff
    return math.sqrt(s)


@njit(cache=True, inline="always")
def _row_dist(a, i, b, j):
    s = 0.0
    for t in range(a.shape[1]):
        diff = a[i, t] - b[j, t]
        s += diff * diff
    return math.sqrt(s)


@njit(cache=True)
def ceil_log2(x):
    """Smallest integer t with x <= 2**t (x > 0, finite)."""
    m, e = math.frexp(x)
    if m == 0.5:
        return e - 1
    return e


@njit(cache=True)
def _grow(a, need):
    cap = a.shape[0]
    while cap < need:
        cap *= 2
    out = np.empty(cap, a.dtype)
    out[: a.shape[0]] = a
    return out


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
def _advance(points, level, child_ptr, children, x, qn, qd, qc, nq, jn, bn, bd, bc):
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
            d = _dist(x, points, ch)
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
def _insertion_descent(points, level, child_ptr, children, root, x, eligible, bufs):
    """Insertion level, parent and duplicate node of one point (see doc/algorithm.md)."""
    qn, qd, qc, bn, bd, bc = bufs
    d0 = _dist(x, points, root)
    if d0 == 0.0:
        return 0, -1, root, bufs
    qn[0] = root
    qd[0] = d0
    qc[0] = child_ptr[root]
    nq = 1
    j = level[root]
    best_s = 0
    best_par = -1
    while nq > 0:
        has, jn = _next_level(level, child_ptr, children, qn, qc, nq)
        par, m = _nearest(qn, qd, nq, eligible)
        if par >= 0:
            t = ceil_log2(m)
            if has and t < jn + 1:
                t = jn + 1
            if t <= j:
                best_s = t
                best_par = par
        if not has:
            break
        bn, bd, bc, nq, dup = _advance(
            points, level, child_ptr, children, x, qn, qd, qc, nq, jn, bn, bd, bc
        )
        qn, qd, qc, bn, bd, bc = bn, bd, bc, qn, qd, qc
        if dup >= 0:
            return 0, -1, dup, (qn, qd, qc, bn, bd, bc)
        j = jn
    return best_s - 1, best_par, -1, (qn, qd, qc, bn, bd, bc)


@njit(cache=True)
def _new_bufs():
    return (
        np.empty(64, np.int64), np.empty(64, np.float64), np.empty(64, np.int64),
        np.empty(64, np.int64), np.empty(64, np.float64), np.empty(64, np.int64),
    )


@njit(cache=True, parallel=True)
def traverse_sparse(points, level, child_ptr, children, root, X):
    """For each row of X: insertion level, parent node and duplicate node (-1 if none)."""
    n = X.shape[0]
    out_level = np.empty(n, np.int64)
    out_parent = np.empty(n, np.int64)
    out_dup = np.empty(n, np.int64)
    eligible = np.ones(points.shape[0], np.bool_)
    chunk = 64
    nchunks = (n + chunk - 1) // chunk
    for ci in prange(nchunks):
        bufs = _new_bufs()
        for i in range(ci * chunk, min(n, (ci + 1) * chunk)):
            lv, par, dup, bufs = _insertion_descent(
                points, level, child_ptr, children, root, X[i], eligible, bufs
            )
            out_level[i] = lv
            out_parent[i] = par
            out_dup[i] = dup
    return out_level, out_parent, out_dup


@njit(cache=True, parallel=True)
def find_parents(points, level, child_ptr, children, root, X, target, eligible):
    """For each row i of X: the nearest eligible node in C_target[i] within 2^target[i].

    Returns -1 where there is none. Non-eligible nodes are still used to
    navigate (they keep the old tree's geometry).
    """
    n = X.shape[0]
    out = np.full(n, -1, np.int64)
    for i in prange(n):
        qn, qd, qc, bn, bd, bc = _new_bufs()
        x = X[i]
        t = target[i]
        qn[0] = root
        qd[0] = _dist(x, points, root)
        qc[0] = child_ptr[root]
        nq = 1
        if level[root] < t:
            continue
        while nq > 0:
            has, jn = _next_level(level, child_ptr, children, qn, qc, nq)
            if (not has) or jn < t:
                break
            bn, bd, bc, nq, _ = _advance(
                points, level, child_ptr, children, x, qn, qd, qc, nq, jn, bn, bd, bc
            )
            qn, qd, qc, bn, bd, bc = bn, bd, bc, qn, qd, qc
        par, m = _nearest(qn, qd, nq, eligible)
        if par >= 0 and m <= math.ldexp(1.0, t):
            out[i] = par
    return out


@njit(cache=True, parallel=True)
def pair_distances(A, ia, B, ib):
    """Distances between rows ``A[ia[t]]`` and ``B[ib[t]]``."""
    n = ia.shape[0]
    out = np.empty(n, np.float64)
    for t in prange(n):
        out[t] = _row_dist(A, ia[t], B, ib[t])
    return out


@njit(cache=True, parallel=True)
def distances_to_point(A, x):
    """Distances from x to every row of A."""
    n = A.shape[0]
    out = np.empty(n, np.float64)
    for t in prange(n):
        out[t] = _dist(x, A, t)
    return out


@njit(cache=True)
def _conflict_scale(lev_i, lev_j):
    return math.ldexp(1.0, min(lev_i, lev_j))


@njit(cache=True, parallel=True)
def conflict_dense(X, lev):
    """All pairs i < j with d(X[i], X[j]) <= 2^min(lev[i], lev[j])."""
    n = X.shape[0]
    counts = np.zeros(n, np.int64)
    for i in prange(n):
        c = 0
        for j in range(i + 1, n):
            if _row_dist(X, i, X, j) <= _conflict_scale(lev[i], lev[j]):
                c += 1
        counts[i] = c
    offsets = np.zeros(n + 1, np.int64)
    offsets[1:] = np.cumsum(counts)
    ei = np.empty(offsets[-1], np.int64)
    ej = np.empty(offsets[-1], np.int64)
    for i in prange(n):
        k = offsets[i]
        for j in range(i + 1, n):
            if _row_dist(X, i, X, j) <= _conflict_scale(lev[i], lev[j]):
                ei[k] = i
                ej[k] = j
                k += 1
    return ei, ej


@njit(cache=True, parallel=True)
def conflict_sweep(X, lev, key):
    """Conflict pairs of points sorted by ``key`` (a 1-Lipschitz function of position).

    A conflicting pair has ``|key[i] - key[j]| <= d(i, j) <= 2^lev[i]``, so each
    point only scans forward while the key gap stays within its own scale.
    """
    n = X.shape[0]
    counts = np.zeros(n, np.int64)
    for i in prange(n):
        w = math.ldexp(1.0, lev[i])
        c = 0
        j = i + 1
        while j < n and key[j] - key[i] <= w + PRUNE_RTOL * (key[j] + w):
            if _row_dist(X, i, X, j) <= _conflict_scale(lev[i], lev[j]):
                c += 1
            j += 1
        counts[i] = c
    offsets = np.zeros(n + 1, np.int64)
    offsets[1:] = np.cumsum(counts)
    ei = np.empty(offsets[-1], np.int64)
    ej = np.empty(offsets[-1], np.int64)
    for i in prange(n):
        w = math.ldexp(1.0, lev[i])
        k = offsets[i]
        j = i + 1
        while j < n and key[j] - key[i] <= w + PRUNE_RTOL * (key[j] + w):
            if _row_dist(X, i, X, j) <= _conflict_scale(lev[i], lev[j]):
                ei[k] = i
                ej[k] = j
                k += 1
            j += 1
    return ei, ej


@njit(cache=True)
def luby_mis(indptr, indices, priority):
    """Maximal independent set of a graph in CSR form (Luby's rounds).

    A vertex joins when its priority beats every undecided neighbour's; the
    neighbours of joined vertices drop out. Priorities must be distinct.
    Returns (mask, number of rounds).
    """
    n = indptr.shape[0] - 1
    state = np.zeros(n, np.int8)  # 0 undecided, 1 in, 2 out
    join = np.zeros(n, np.bool_)
    rounds = 0
    undecided = n
    while undecided > 0:
        rounds += 1
        for v in range(n):
            join[v] = False
            if state[v] != 0:
                continue
            ok = True
            for t in range(indptr[v], indptr[v + 1]):
                u = indices[t]
                if state[u] == 0 and priority[u] > priority[v]:
                    ok = False
                    break
            join[v] = ok
        for v in range(n):
            if join[v]:
                state[v] = 1
                undecided -= 1
        for v in range(n):
            if join[v]:
                for t in range(indptr[v], indptr[v + 1]):
                    u = indices[t]
                    if state[u] == 0:
                        state[u] = 2
                        undecided -= 1
    return state == 1, rounds


@njit(cache=True)
def subtree_radii(points, parent):
    """Exact subtree radius: largest distance from each node to a descendant."""
    n = parent.shape[0]
    radius = np.zeros(n, np.float64)
    for v in range(n):
        a = parent[v]
        while a >= 0:
            d = _row_dist(points, v, points, a)
            if d > radius[a]:
                radius[a] = d
            a = parent[a]
    return radius


# ----------------------------------------------------------------------------
# queries


@njit(cache=True, inline="always")
def _less(d1, i1, d2, i2):
    return d1 < d2 or (d1 == d2 and i1 < i2)


@njit(cache=True)
def _heap_push(hd, hi, size, k, d, idx):
    """Max-heap on (distance, id) of capacity k; returns the new size."""
    if size < k:
        pos = size
        size += 1
        while pos > 0:
            up = (pos - 1) // 2
            if _less(hd[up], hi[up], d, idx):
                hd[pos] = hd[up]
                hi[pos] = hi[up]
                pos = up
            else:
                break
        hd[pos] = d
        hi[pos] = idx
        return size
    if not _less(d, idx, hd[0], hi[0]):
        return size
    pos = 0
    while True:
        left = 2 * pos + 1
        if left >= k:
            break
        big = left
        right = left + 1
        if right < k and _less(hd[left], hi[left], hd[right], hi[right]):
            big = right
        if _less(d, idx, hd[big], hi[big]):
            hd[pos] = hd[big]
            hi[pos] = hi[big]
            pos = big
        else:
            break
    hd[pos] = d
    hi[pos] = idx
    return size


@njit(cache=True)
def _heap_sort(hd, hi, size):
    """Sort a max-heap in place into ascending (distance, id) order."""
    for end in range(size - 1, 0, -1):
        d, idx = hd[end], hi[end]
        hd[end], hi[end] = hd[0], hi[0]
        pos = 0
        while True:
            left = 2 * pos + 1
            if left >= end:
                break
            big = left
            right = left + 1
            if right < end and _less(hd[left], hi[left], hd[right], hi[right]):
                big = right
            if _less(d, idx, hd[big], hi[big]):
                hd[pos] = hd[big]
                hi[pos] = hi[big]
                pos = big
            else:
                break
        hd[pos] = d
        hi[pos] = idx


@njit(cache=True)
def _knn_one(points, radius, child_ptr, children, id_ptr, ids, root, q, k, hd, hi, st, cn, cd):
    sn, sd = st
    size = 0
    d0 = _dist(q, points, root)
    for t in range(id_ptr[root], id_ptr[root + 1]):
        size = _heap_push(hd, hi, size, k, d0, ids[t])
    sn[0] = root
    sd[0] = d0
    top = 1
    n_dist = 1
    while top > 0:
        top -= 1
        p = sn[top]
        dp = sd[top]
        kth = hd[0] if size == k else np.inf
        if dp - radius[p] > kth + PRUNE_RTOL * (dp + radius[p]):
            continue
        c0 = child_ptr[p]
        m = child_ptr[p + 1] - c0
        if m == 0:
            continue
        if cn.shape[0] < m:
            cn = np.empty(2 * m, np.int64)
            cd = np.empty(2 * m, np.float64)
        for t in range(m):
            c = children[c0 + t]
            d = _dist(q, points, c)
            cn[t] = c
            cd[t] = d
            if size < k or d <= hd[0]:
                for u in range(id_ptr[c], id_ptr[c + 1]):
                    size = _heap_push(hd, hi, size, k, d, ids[u])
        n_dist += m
        kth = hd[0] if size == k else np.inf
        # keep children whose subtree may still hold a neighbour
        keep = 0
        for t in range(m):
            c = cn[t]
            if radius[c] > 0.0 and cd[t] - radius[c] <= kth + PRUNE_RTOL * (cd[t] + radius[c]):
                cn[keep] = c
                cd[keep] = cd[t]
                keep += 1
        # insertion sort, farthest first, so the nearest child is popped first
        for a in range(1, keep):
            c = cn[a]
            d = cd[a]
            b = a - 1
            while b >= 0 and cd[b] < d:
                cn[b + 1] = cn[b]
                cd[b + 1] = cd[b]
                b -= 1
            cn[b + 1] = c
            cd[b + 1] = d
        if top + keep > sn.shape[0]:
            sn = _grow(sn, top + keep)
            sd = _grow(sd, top + keep)
        for a in range(keep):
            sn[top] = cn[a]
            sd[top] = cd[a]
            top += 1
    _heap_sort(hd, hi, size)
    return (sn, sd), cn, cd, n_dist


@njit(cache=True, parallel=True)
def knn(points, radius, child_ptr, children, id_ptr, ids, root, Q, k):
    """Exact k nearest neighbours of every row of Q: (distances, ids, distance evaluations)."""
    nq = Q.shape[0]
    out_d = np.full((nq, k), np.inf)
    out_i = np.full((nq, k), -1, np.int64)
    evals = np.zeros(nq, np.int64)
    chunk = 32
    nchunks = (nq + chunk - 1) // chunk
    for ci in prange(nchunks):
        st = (np.empty(256, np.int64), np.empty(256, np.float64))
        cn = np.empty(256, np.int64)
        cd = np.empty(256, np.float64)
        for i in range(ci * chunk, min(nq, (ci + 1) * chunk)):
            st, cn, cd, ne = _knn_one(
                points, radius, child_ptr, children, id_ptr, ids, root, Q[i], k,
                out_d[i], out_i[i], st, cn, cd,
            )
            evals[i] = ne
    return out_d, out_i, evals


@njit(cache=True)
def _radius_one(points, radius, child_ptr, children, id_ptr, ids, root, q, r, out_d, out_i, st):
    """Visit every node within r of q; write into out_* when they are non-empty."""
    sn = st
    fill = out_d.shape[0] > 0
    count = 0
    d0 = _dist(q, points, root)
    if d0 <= r:
        for t in range(id_ptr[root], id_ptr[root + 1]):
            if fill:
                out_d[count] = d0
                out_i[count] = ids[t]
            count += 1
    if d0 - radius[root] > r + PRUNE_RTOL * (d0 + radius[root]):
        return count, sn
    sn[0] = root
    top = 1
    while top > 0:
        top -= 1
        p = sn[top]
        c0 = child_ptr[p]
        c1 = child_ptr[p + 1]
        for t in range(c0, c1):
            c = children[t]
            d = _dist(q, points, c)
            if d <= r:
                for u in range(id_ptr[c], id_ptr[c + 1]):
                    if fill:
                        out_d[count] = d
                        out_i[count] = ids[u]
                    count += 1
            if radius[c] > 0.0 and d - radius[c] <= r + PRUNE_RTOL * (d + radius[c]):
                if top >= sn.shape[0]:
                    sn = _grow(sn, top + 1)
                sn[top] = c
                top += 1
    return count, sn


@njit(cache=True, parallel=True)
def radius_count(points, radius, child_ptr, children, id_ptr, ids, root, Q, r):
    """Number of ids within r[i] of each row Q[i]."""
    nq = Q.shape[0]
    counts = np.zeros(nq, np.int64)
    empty_d = np.empty(0, np.float64)
    empty_i = np.empty(0, np.int64)
    for i in prange(nq):
        st = np.empty(64, np.int64)
        c, st = _radius_one(
            points, radius, child_ptr, children, id_ptr, ids, root, Q[i], r[i],
            empty_d, empty_i, st,
        )
        counts[i] = c
    return counts


@njit(cache=True, parallel=True)
def radius_fill(points, radius, child_ptr, children, id_ptr, ids, root, Q, r, offsets):
    """Distances and ids within r[i] of each Q[i], written at offsets[i]."""
    nq = Q.shape[0]
    out_d = np.empty(offsets[-1], np.float64)
    out_i = np.empty(offsets[-1], np.int64)
    for i in prange(nq):
        st = np.empty(64, np.int64)
        lo = offsets[i]
        hi = offsets[i + 1]
        if hi == lo:
            continue
        _radius_one(
            points, radius, child_ptr, children, id_ptr, ids, root, Q[i], r[i],
            out_d[lo:hi], out_i[lo:hi], st,
        )
    return out_d, out_i
