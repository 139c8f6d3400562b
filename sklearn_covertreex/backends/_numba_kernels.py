"""Plain-array numba kernels (Euclidean metric, or packed residual-correlation rows).

Every kernel is lazily compiled with ``cache=True``, so it accepts read-only,
float32 and Fortran-ordered arrays, is compiled once per signature and then
reused from the on-disk cache. No kernel keeps state between calls.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from numba.extending import overload

from ._residual_rows import packed_distance

# Relative slack used when comparing a lower bound with a current k-th
# distance: pruning only happens when the bound exceeds it by more than the
# rounding error of the distances involved, so no true neighbour is lost.
PRUNE_RTOL = 1e-12


def _dist(x, points, j):
    """Distance between the point ``x`` and row ``j`` of ``points`` (compiled only)."""
    raise NotImplementedError


def _row_dist(a, i, b, j):
    """Distance between row ``i`` of ``a`` and row ``j`` of ``b`` (compiled only)."""
    raise NotImplementedError


@overload(_dist)
def _dist_impl(x, points, j):
    if points.ndim == 3:  # packed residual-correlation rows
        def residual(x, points, j):
            return packed_distance(x[0], points[j, 0])
        return residual

    def euclidean(x, points, j):
        s = 0.0
        for t in range(x.shape[0]):
            diff = x[t] - points[j, t]
            s += diff * diff
        return math.sqrt(s)
    return euclidean


@overload(_row_dist)
def _row_dist_impl(a, i, b, j):
    if a.ndim == 3:  # packed residual-correlation rows
        def residual(a, i, b, j):
            return packed_distance(a[i, 0], b[j, 0])
        return residual

    def euclidean(a, i, b, j):
        s = 0.0
        for t in range(a.shape[1]):
            diff = a[i, t] - b[j, t]
            s += diff * diff
        return math.sqrt(s)
    return euclidean


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
def _new_bufs():
    return (
        np.empty(64, np.int64), np.empty(64, np.float64), np.empty(64, np.int64),
        np.empty(64, np.int64), np.empty(64, np.float64), np.empty(64, np.int64),
    )


@njit(cache=True, inline="always")
def _fpush(fk, fn, fd, size, key, node, dist):
    """Push (key, node, dist) on a min-heap of lower bounds (capacity ensured by caller)."""
    pos = size
    while pos > 0:
        up = (pos - 1) // 2
        if fk[up] > key:
            fk[pos] = fk[up]
            fn[pos] = fn[up]
            fd[pos] = fd[up]
            pos = up
        else:
            break
    fk[pos] = key
    fn[pos] = node
    fd[pos] = dist
    return size + 1


@njit(cache=True)
def _fgrow(front, need):
    """Frontier buffers with room for ``need`` entries."""
    fk, fn, fd = front
    if fk.shape[0] >= need:
        return front
    return _grow(fk, need), _grow(fn, need), _grow(fd, need)


@njit(cache=True, inline="always")
def _fpop(fk, fn, fd, size):
    """Pop the smallest key; returns (key, node, dist, new size)."""
    key, node, dist = fk[0], fn[0], fd[0]
    size -= 1
    lk, ln, ld = fk[size], fn[size], fd[size]
    pos = 0
    while True:
        left = 2 * pos + 1
        if left >= size:
            break
        small = left
        if left + 1 < size and fk[left + 1] < fk[left]:
            small = left + 1
        if fk[small] < lk:
            fk[pos] = fk[small]
            fn[pos] = fn[small]
            fd[pos] = fd[small]
            pos = small
        else:
            break
    fk[pos] = lk
    fn[pos] = ln
    fd[pos] = ld
    return key, node, dist, size


@njit(cache=True)
def _new_frontier():
    return np.empty(64, np.float64), np.empty(64, np.int64), np.empty(64, np.float64)


@njit(cache=True)
def _covering_search(points, level, radius, parent_dist, child_ptr, children, root, x, front):
    """Nearest node y with d(x, y) <= 2^level(y) ("covering" x), best-first.

    Returns (node, distance, duplicate node or -1, frontier buffers).
    Descendants of a node c have levels below level(c), so they can only
    cover x if d(x, c) - radius(c) <= 2^(level(c) - 1); together with the best
    covering distance found so far this prunes like a 1-NN search.
    """
    fk, fn, fd = front
    best = -1
    bestd = np.inf
    d0 = _dist(x, points, root)
    if d0 == 0.0:
        return root, 0.0, root, (fk, fn, fd)
    if d0 <= math.ldexp(1.0, level[root]):
        best = root
        bestd = d0
    fs = _fpush(fk, fn, fd, 0, d0 - radius[root], root, d0)
    while fs > 0:
        lb, p, dp, fs = _fpop(fk, fn, fd, fs)
        slack = PRUNE_RTOL * (dp + radius[p])
        if fs + child_ptr[p + 1] - child_ptr[p] > fk.shape[0]:
            fk, fn, fd = _fgrow((fk, fn, fd), fs + child_ptr[p + 1] - child_ptr[p])
        if lb > bestd + slack:
            break
        if lb > math.ldexp(1.0, level[p] - 1) + slack:
            continue
        for t in range(child_ptr[p], child_ptr[p + 1]):
            c = children[t]
            rc = radius[c]
            # |d(x, p) - d(p, c)| <= d(x, c): skip c unevaluated when even the
            # bound says neither c nor its subtree can cover x better
            gap = abs(dp - parent_dist[c])
            if gap - rc > min(bestd, math.ldexp(1.0, level[c])) + PRUNE_RTOL * (gap + rc + dp):
                continue
            d = _dist(x, points, c)
            if d == 0.0:
                return c, 0.0, c, (fk, fn, fd)
            if d <= math.ldexp(1.0, level[c]) and (d < bestd or (d == bestd and c < best)):
                best = c
                bestd = d
            if rc > 0.0:
                lim = min(bestd, math.ldexp(1.0, level[c] - 1))
                if d - rc <= lim + PRUNE_RTOL * (d + rc):
                    fs = _fpush(fk, fn, fd, fs, d - rc, c, d)
    return best, bestd, -1, (fk, fn, fd)


@njit(cache=True, parallel=True)
def traverse_sparse(points, level, radius, parent_dist, child_ptr, children, root, X):
    """For each row of X: insertion level, parent node and duplicate node (-1 if none).

    The parent is the nearest node y with d(x, y) <= 2^level(y) (ties: the
    smaller index) and the level is ceil(log2 d(x, parent)) - 1, the lowest
    level that keeps separation (see doc/algorithm.md).
    """
    n = X.shape[0]
    out_level = np.zeros(n, np.int64)
    out_parent = np.full(n, -1, np.int64)
    out_dup = np.full(n, -1, np.int64)
    chunk = 64
    nchunks = (n + chunk - 1) // chunk
    for ci in prange(nchunks):
        front = _new_frontier()
        for i in range(ci * chunk, min(n, (ci + 1) * chunk)):
            best, bestd, dup, front = _covering_search(
                points, level, radius, parent_dist, child_ptr, children, root, X[i], front
            )
            if dup >= 0:
                out_dup[i] = dup
            else:
                out_parent[i] = best
                out_level[i] = ceil_log2(bestd) - 1
    return out_level, out_parent, out_dup


@njit(cache=True)
def update_radii(points, parent, radius, nodes):
    """Raise the subtree radius of every ancestor of ``nodes`` (in place)."""
    for v in nodes:
        a = parent[v]
        while a >= 0:
            d = _row_dist(points, v, points, a)
            if d > radius[a]:
                radius[a] = d
            a = parent[a]


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


CELL_CLAMP = 4.0e18
# relative slack of the grid look-up: covers rounding in the embedding and in
# the distance test, so a pair the distance test calls conflicting is never missed
CELL_RTOL = 1e-9


@njit(cache=True, inline="always")
def _cell(y, side):
    """Integer cell index of y on a grid of side ``side`` (clamped, so monotone)."""
    c = math.floor(y / side)
    return np.int64(min(max(c, -CELL_CLAMP), CELL_CLAMP))


@njit(cache=True, inline="always")
def _hash_cells(cells):
    h = np.uint64(1469598103934665603)
    for t in range(cells.shape[0]):
        h = (h ^ np.uint64(cells[t])) * np.uint64(1099511628211)
    return h


@njit(cache=True)
def _cell_tables(lev, Y, levels):
    """Per level a: hashes of the cells (side 2^a) of points with level >= a, sorted."""
    n = Y.shape[0]
    k = Y.shape[1]
    total = 0
    for a in levels:
        total += np.sum(lev >= a)
    sh = np.empty(total, np.uint64)
    st = np.empty(total, np.int64)
    table_ptr = np.zeros(levels.shape[0] + 1, np.int64)
    cells = np.empty(k, np.int64)
    pos = 0
    for li in range(levels.shape[0]):
        a = levels[li]
        side = math.ldexp(1.0, a)
        start = pos
        for i in range(n):
            if lev[i] >= a:
                for t in range(k):
                    cells[t] = _cell(Y[i, t], side)
                sh[pos] = _hash_cells(cells)
                st[pos] = i
                pos += 1
        order = np.argsort(sh[start:pos])
        sh[start:pos] = sh[start:pos][order]
        st[start:pos] = st[start:pos][order]
        table_ptr[li + 1] = pos
    return sh, st, table_ptr


@njit(cache=True, inline="always")
def _take_pair(X, lev, i, j, a, ei, ej, at, c, fill):
    if j == i or (lev[j] == a and j < i):
        return c
    if _row_dist(X, i, X, j) <= _conflict_scale(lev[i], lev[j]):
        if fill:
            ei[at + c] = min(i, j)
            ej[at + c] = max(i, j)
        c += 1
    return c


@njit(cache=True)
def _probe(X, lev, Y, y_rtol, i, sh, st, lo0, hi0, ei, ej, at, fill):
    """Conflicts of source i with the points in the cells around it (see conflict_cells)."""
    k = Y.shape[1]
    a = lev[i]
    side = math.ldexp(1.0, a)
    lo = np.empty(k, np.int64)
    span = np.empty(k, np.int64)
    total = 1
    for t in range(k):
        delta = CELL_RTOL * side + y_rtol * (side + 2.0 * abs(Y[i, t]))
        lo[t] = _cell(Y[i, t] - delta, side) - 1
        span[t] = min(_cell(Y[i, t] + delta, side) + 1 - lo[t] + 1, 5)
        total *= span[t]
    c = 0
    if total > 4**k:
        # the rounding slack exceeds a cell: the grid cannot resolve this
        # scale, so test every candidate of the level (rare, exact)
        for p in range(lo0, hi0):
            c = _take_pair(X, lev, i, st[p], a, ei, ej, at, c, fill)
        return c
    cells = np.empty(k, np.int64)
    for code in range(total):
        rest = code
        for t in range(k):
            cells[t] = lo[t] + rest % span[t]
            rest //= span[t]
        h = _hash_cells(cells)
        p = lo0 + np.searchsorted(sh[lo0:hi0], h)
        while p < hi0 and sh[p] == h:
            c = _take_pair(X, lev, i, st[p], a, ei, ej, at, c, fill)
            p += 1
    return c


@njit(cache=True, parallel=True)
def conflict_cells(X, lev, Y, y_rtol):
    """Conflict pairs found through a grid over an embedding Y of the points.

    Y (n, k) must satisfy |Y[i, t] - Y[j, t]| <= d(i, j) for every column t,
    up to a rounding error of ``y_rtol * |Y|`` (0 for raw coordinates, whose
    differences are exact; about 1e-12 for computed distances to pivots).
    A point of level a looks up the points of level >= a in the cells around
    its own on a grid of side 2^a: one cell either way, widened by the
    rounding slack so no pair the distance test calls conflicting is missed;
    when the slack exceeds a cell, every candidate of the level is tested.
    Every candidate is decided by the exact distance test; hash collisions
    only add candidates (and may repeat a pair), so the set of pairs is exact.
    """
    n = X.shape[0]
    levels = np.unique(lev)
    sh, st, table_ptr = _cell_tables(lev, Y, levels)
    level_index = np.searchsorted(levels, lev)
    counts = np.zeros(n, np.int64)
    dummy = np.empty(0, np.int64)
    for i in prange(n):
        li = level_index[i]
        counts[i] = _probe(X, lev, Y, y_rtol, i, sh, st, table_ptr[li], table_ptr[li + 1],
                           dummy, dummy, 0, False)
    offs = np.zeros(n + 1, np.int64)
    offs[1:] = np.cumsum(counts)
    ei = np.empty(offs[-1], np.int64)
    ej = np.empty(offs[-1], np.int64)
    for i in prange(n):
        if counts[i] == 0:
            continue
        li = level_index[i]
        _probe(X, lev, Y, y_rtol, i, sh, st, table_ptr[li], table_ptr[li + 1], ei, ej, offs[i],
               True)
    return ei, ej


@njit(cache=True)
def batch_radii(points, parent, X, par):
    """Attachment CSR and batch radii for the tree conflict search.

    Batch point y hangs under node par[y]. Returns (att_ptr, att_idx, bradius)
    where the batch points under node v are att_idx[att_ptr[v]:att_ptr[v+1]]
    and bradius[v] is the largest distance from v to a batch point hanging in
    v's subtree (-1 if there is none).
    """
    n_nodes = parent.shape[0]
    b = X.shape[0]
    counts = np.zeros(n_nodes + 1, np.int64)
    for y in range(b):
        counts[par[y] + 1] += 1
    att_ptr = np.cumsum(counts)
    att_idx = np.empty(b, np.int64)
    fill = att_ptr[:-1].copy()
    bradius = np.full(n_nodes, -1.0)
    for y in range(b):
        a = par[y]
        att_idx[fill[a]] = y
        fill[a] += 1
        while a >= 0:
            d = _dist(X[y], points, a)
            if d > bradius[a]:
                bradius[a] = d
            a = parent[a]
    return att_ptr, att_idx, bradius


@njit(cache=True)
def _tree_probe(points, child_ptr, children, root, X, lev, att_ptr, att_idx, bradius, x,
                stack, ei, ej, at, fill):
    """Conflicts of batch point x with batch points of level >= lev[x], via the tree."""
    r = math.ldexp(1.0, lev[x])
    c = 0
    if bradius[root] < 0.0:
        return c, stack
    d0 = _dist(X[x], points, root)
    if d0 - bradius[root] > r + PRUNE_RTOL * (d0 + bradius[root]):
        return c, stack
    stack[0] = root
    top = 1
    while top > 0:
        top -= 1
        v = stack[top]
        for t in range(att_ptr[v], att_ptr[v + 1]):
            y = att_idx[t]
            if lev[y] < lev[x] or (lev[y] == lev[x] and y <= x):
                continue
            if _row_dist(X, x, X, y) <= r:
                if fill:
                    ei[at + c] = min(x, y)
                    ej[at + c] = max(x, y)
                c += 1
        for t in range(child_ptr[v], child_ptr[v + 1]):
            ch = children[t]
            br = bradius[ch]
            if br < 0.0:
                continue
            d = _dist(X[x], points, ch)
            if d - br <= r + PRUNE_RTOL * (d + br):
                if top >= stack.shape[0]:
                    stack = _grow(stack, top + 1)
                stack[top] = ch
                top += 1
    return c, stack


@njit(cache=True, parallel=True)
def conflict_tree(points, parent, child_ptr, children, root, X, lev, par):
    """Conflict pairs found by searching the tree the batch is about to join.

    Each batch point hangs under its parent; a node's batch radius bounds the
    distance to every batch point below it, so from x the search prunes every
    subtree whose lower bound exceeds 2^lev[x]. A pair is looked up from its
    lower-level end (ties: the smaller index) and decided by the exact test.
    """
    b = X.shape[0]
    att_ptr, att_idx, bradius = batch_radii(points, parent, X, par)
    counts = np.zeros(b, np.int64)
    dummy = np.empty(0, np.int64)
    chunk = 64
    nchunks = (b + chunk - 1) // chunk
    for ci in prange(nchunks):
        stack = np.empty(64, np.int64)
        for x in range(ci * chunk, min(b, (ci + 1) * chunk)):
            cnt, stack = _tree_probe(points, child_ptr, children, root, X, lev, att_ptr,
                                     att_idx, bradius, x, stack, dummy, dummy, 0, False)
            counts[x] = cnt
    offs = np.zeros(b + 1, np.int64)
    offs[1:] = np.cumsum(counts)
    ei = np.empty(offs[-1], np.int64)
    ej = np.empty(offs[-1], np.int64)
    for ci in prange(nchunks):
        stack = np.empty(64, np.int64)
        for x in range(ci * chunk, min(b, (ci + 1) * chunk)):
            if counts[x] > 0:
                _, stack = _tree_probe(points, child_ptr, children, root, X, lev, att_ptr,
                                       att_idx, bradius, x, stack, ei, ej, offs[x], True)
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


@njit(cache=True, inline="always")
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
    _sift_down(hd, hi, d, idx, k)
    return size


@njit(cache=True, inline="always")
def _sift_down(hd, hi, d, idx, end):
    """Put (d, idx) at the top of the max-heap hd[:end], hi[:end] and restore order."""
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
def _heap_sort(hd, hi, size):
    """Sort a max-heap in place into ascending (distance, id) order."""
    for end in range(size - 1, 0, -1):
        d, idx = hd[end], hi[end]
        hd[end], hi[end] = hd[0], hi[0]
        _sift_down(hd, hi, d, idx, end)


@njit(cache=True)
def _knn_one(points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, q, k, hd, hi,
             front):
    """Best-first k-NN of one query into the max-heap (hd, hi).

    Returns (distance evaluations, pruned nodes, frontier): a node is pruned
    when its subtree is discarded unexpanded (skipped by the parent-distance
    bound, not queued, or left queued when the search stops).
    """
    fk, fn, fd = front
    size = 0
    d0 = _dist(q, points, root)
    for t in range(id_ptr[root], id_ptr[root + 1]):
        size = _heap_push(hd, hi, size, k, d0, ids[t])
    n_dist = 1
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
        if fs + child_ptr[p + 1] - child_ptr[p] > fk.shape[0]:
            fk, fn, fd = _fgrow((fk, fn, fd), fs + child_ptr[p + 1] - child_ptr[p])
        for t in range(child_ptr[p], child_ptr[p + 1]):
            c = children[t]
            rc = radius[c]
            if size == k:
                # |d(q, p) - d(p, c)| <= d(q, c): skip c unevaluated when possible
                gap = abs(dp - parent_dist[c])
                if gap - rc > hd[0] + PRUNE_RTOL * (gap + rc + dp):
                    n_pruned += 1
                    continue
            d = _dist(q, points, c)
            n_dist += 1
            if size < k or d <= hd[0]:
                for u in range(id_ptr[c], id_ptr[c + 1]):
                    size = _heap_push(hd, hi, size, k, d, ids[u])
            if rc > 0.0:
                kth = hd[0] if size == k else np.inf
                if d - rc <= kth + PRUNE_RTOL * (d + rc):
                    fs = _fpush(fk, fn, fd, fs, d - rc, c, d)
                else:
                    n_pruned += 1
    _heap_sort(hd, hi, size)
    return n_dist, n_pruned, (fk, fn, fd)


@njit(cache=True, parallel=True)
def knn(points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, Q, k):
    """Exact k nearest neighbours of every row of Q.

    Returns (distances, ids, distance evaluations, pruned nodes), the last two
    per query.
    """
    nq = Q.shape[0]
    out_d = np.full((nq, k), np.inf)
    out_i = np.full((nq, k), -1, np.int64)
    evals = np.zeros(nq, np.int64)
    pruned = np.zeros(nq, np.int64)
    chunk = 32
    nchunks = (nq + chunk - 1) // chunk
    for ci in prange(nchunks):
        front = _new_frontier()
        for i in range(ci * chunk, min(nq, (ci + 1) * chunk)):
            ne, npr, front = _knn_one(
                points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, Q[i], k,
                out_d[i], out_i[i], front,
            )
            evals[i] = ne
            pruned[i] = npr
    return out_d, out_i, evals, pruned


@njit(cache=True)
def _radius_one(points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, q, r,
                out_d, out_i, st):
    """Visit every node within r of q; write into out_* when they are non-empty."""
    sn, sd = st
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
        return count, (sn, sd)
    sn[0] = root
    sd[0] = d0
    top = 1
    while top > 0:
        top -= 1
        p = sn[top]
        dp = sd[top]
        for t in range(child_ptr[p], child_ptr[p + 1]):
            c = children[t]
            rc = radius[c]
            # |d(q, p) - d(p, c)| <= d(q, c): skip c and its subtree unevaluated
            gap = abs(dp - parent_dist[c])
            if gap - rc > r + PRUNE_RTOL * (gap + rc + dp):
                continue
            d = _dist(q, points, c)
            if d <= r:
                for u in range(id_ptr[c], id_ptr[c + 1]):
                    if fill:
                        out_d[count] = d
                        out_i[count] = ids[u]
                    count += 1
            if rc > 0.0 and d - rc <= r + PRUNE_RTOL * (d + rc):
                if top >= sn.shape[0]:
                    sn = _grow(sn, top + 1)
                    sd = _grow(sd, top + 1)
                sn[top] = c
                sd[top] = d
                top += 1
    return count, (sn, sd)


@njit(cache=True, parallel=True)
def radius_count(points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, Q, r):
    """Number of ids within r[i] of each row Q[i]."""
    nq = Q.shape[0]
    counts = np.zeros(nq, np.int64)
    empty_d = np.empty(0, np.float64)
    empty_i = np.empty(0, np.int64)
    for i in prange(nq):
        st = (np.empty(64, np.int64), np.empty(64, np.float64))
        c, st = _radius_one(
            points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, Q[i], r[i],
            empty_d, empty_i, st,
        )
        counts[i] = c
    return counts


@njit(cache=True, parallel=True)
def radius_fill(points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, Q, r,
                offsets):
    """Distances and ids within r[i] of each Q[i], written at offsets[i]."""
    nq = Q.shape[0]
    out_d = np.empty(offsets[-1], np.float64)
    out_i = np.empty(offsets[-1], np.int64)
    for i in prange(nq):
        st = (np.empty(64, np.int64), np.empty(64, np.float64))
        lo = offsets[i]
        hi = offsets[i + 1]
        if hi == lo:
            continue
        _radius_one(
            points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, Q[i], r[i],
            out_d[lo:hi], out_i[lo:hi], st,
        )
    return out_d, out_i
