"""Conflict-graph and maximal-independent-set kernels (numba).

Each conflict graph is found in two passes over the sources, both GIL-free
compiled range kernels run over chunks (:func:`sklearn_covertreex._parallel.for_chunks`): one
counts each source's pairs, one writes them at the counts' offsets.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..._parallel import for_chunks
from ..contract import CELL_CLAMP, CELL_RTOL, PRUNE_RTOL
from .distance import _dist, _row_dist, check_width
from .heaps import _grow

#: Fewest sources per chunk of an all-pairs scan.
PAIR_GRAIN = 16
#: Fewest sources per chunk of a grid or tree probe.
PROBE_GRAIN = 64


@njit(cache=True)
def _conflict_scale(lev_i, lev_j):
    return math.ldexp(1.0, min(lev_i, lev_j))


@njit(cache=True, nogil=True)
def _dense_range(metric, X, lev, offsets, ei, ej, counts, lo, hi):
    """Conflicts of rows lo:hi with the later rows: counted, or written at offsets."""
    n = X.shape[0]
    fill = ei.shape[0] > 0
    for i in range(lo, hi):
        c = 0
        for j in range(i + 1, n):
            if _row_dist(metric, X, i, X, j) <= _conflict_scale(lev[i], lev[j]):
                if fill:
                    ei[offsets[i] + c] = i
                    ej[offsets[i] + c] = j
                c += 1
        counts[i] = c


def conflict_dense(metric, X, lev):
    """All pairs i < j with d(X[i], X[j]) <= 2^min(lev[i], lev[j])."""
    check_width(metric, X.shape[1])
    n = X.shape[0]
    counts = np.zeros(n, np.int64)
    empty = np.empty(0, np.int64)
    for_chunks(_dense_range, n, (metric, X, lev, empty, empty, empty, counts), grain=PAIR_GRAIN)
    offsets = _offsets(counts)
    ei = np.empty(offsets[-1], np.int64)
    ej = np.empty(offsets[-1], np.int64)
    if offsets[-1] > 0:
        for_chunks(_dense_range, n, (metric, X, lev, offsets, ei, ej, counts), grain=PAIR_GRAIN)
    return ei, ej


def _offsets(counts):
    """CSR offsets of per-row pair counts."""
    offsets = np.zeros(counts.shape[0] + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


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
def _cell_hashes(lev, Y, levels):
    """Per level a: hashes of the cells (side 2^a) of the points with level >= a.

    Returns (hashes, point of each hash, table offsets per level), unsorted.
    """
    n = Y.shape[0]
    k = Y.shape[1]
    total = 0
    for a in levels:
        for i in range(n):
            if lev[i] >= a:
                total += 1
    sh = np.empty(total, np.uint64)
    st = np.empty(total, np.int64)
    table_ptr = np.zeros(levels.shape[0] + 1, np.int64)
    cells = np.empty(k, np.int64)
    pos = 0
    for li in range(levels.shape[0]):
        a = levels[li]
        side = math.ldexp(1.0, a)
        for i in range(n):
            if lev[i] >= a:
                for t in range(k):
                    cells[t] = _cell(Y[i, t], side)
                sh[pos] = _hash_cells(cells)
                st[pos] = i
                pos += 1
        table_ptr[li + 1] = pos
    return sh, st, table_ptr


def _cell_tables(lev, Y):
    """Per level of ``lev``: the cell hashes of its table sorted, and each point's table.

    Sorting runs in numpy: numba's sorts take seconds to compile.
    """
    levels = np.unique(lev)
    sh, st, table_ptr = _cell_hashes(lev, Y, levels)
    for a, b in zip(table_ptr[:-1], table_ptr[1:], strict=True):
        order = np.argsort(sh[a:b])
        sh[a:b] = sh[a:b][order]
        st[a:b] = st[a:b][order]
    return sh, st, table_ptr, np.searchsorted(levels, lev)


@njit(cache=True)
def _probe(metric, X, lev, Y, y_rtol, i, sh, st, lo0, hi0, ei, ej, at, fill):
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
    # the rounding slack exceeds a cell: the grid cannot resolve this scale,
    # so every candidate of the level is tested (rare, exact)
    every = total > 4**k
    cells = np.empty(k, np.int64)
    c = 0
    for code in range(1 if every else total):
        p = lo0
        h = np.uint64(0)
        if not every:
            rest = code
            for t in range(k):
                cells[t] = lo[t] + rest % span[t]
                rest //= span[t]
            h = _hash_cells(cells)
            p = lo0 + np.searchsorted(sh[lo0:hi0], h)
        # the pair test is written here, not in a helper: a helper taking the
        # arrays made this scan about 4x slower (measured, d=8)
        while p < hi0 and (every or sh[p] == h):
            j = st[p]
            if j != i and (lev[j] != a or j > i):
                if _row_dist(metric, X, i, X, j) <= _conflict_scale(a, lev[j]):
                    if fill:
                        ei[at + c] = i if i < j else j
                        ej[at + c] = j if i < j else i
                    c += 1
            p += 1
    return c


@njit(cache=True, nogil=True)
def _cells_count_range(metric, X, lev, Y, y_rtol, sh, st, table_ptr, level_index, counts, lo, hi):
    """Number of grid conflicts of each source in lo:hi."""
    empty = np.empty(0, np.int64)
    for i in range(lo, hi):
        li = level_index[i]
        counts[i] = _probe(metric, X, lev, Y, y_rtol, i, sh, st, table_ptr[li],
                           table_ptr[li + 1], empty, empty, 0, False)


@njit(cache=True, nogil=True)
def _cells_fill_range(metric, X, lev, Y, y_rtol, sh, st, table_ptr, level_index, counts, offsets,
                      ei, ej, lo, hi):
    """Grid conflicts of the sources in lo:hi, written at their offsets."""
    for i in range(lo, hi):
        if counts[i] > 0:
            li = level_index[i]
            _probe(metric, X, lev, Y, y_rtol, i, sh, st, table_ptr[li], table_ptr[li + 1], ei,
                   ej, offsets[i], True)


def conflict_cells(metric, X, lev, Y, y_rtol):
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
    check_width(metric, X.shape[1])
    n = X.shape[0]
    sh, st, table_ptr, level_index = _cell_tables(lev, Y)
    counts = np.zeros(n, np.int64)
    args = (metric, X, lev, Y, float(y_rtol), sh, st, table_ptr, level_index)
    for_chunks(_cells_count_range, n, (*args, counts), grain=PROBE_GRAIN)
    offsets = _offsets(counts)
    ei = np.empty(offsets[-1], np.int64)
    ej = np.empty(offsets[-1], np.int64)
    if offsets[-1] > 0:
        for_chunks(_cells_fill_range, n, (*args, counts, offsets, ei, ej), grain=PROBE_GRAIN)
    return ei, ej


@njit(cache=True)
def batch_radii(metric, points, parent, X, par):
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
            d = _dist(metric, X[y], points, a)
            if d > bradius[a]:
                bradius[a] = d
            a = parent[a]
    return att_ptr, att_idx, bradius


@njit(cache=True)
def _tree_probe(metric, points, child_ptr, children, root, X, lev, att_ptr, att_idx, bradius, x,
                stack, ei, ej, at, fill):
    """Conflicts of batch point x with batch points of level >= lev[x], via the tree."""
    r = math.ldexp(1.0, lev[x])
    c = 0
    if bradius[root] < 0.0:
        return c, stack
    d0 = _dist(metric, X[x], points, root)
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
            if _row_dist(metric, X, x, X, y) <= r:
                if fill:
                    ei[at + c] = min(x, y)
                    ej[at + c] = max(x, y)
                c += 1
        for t in range(child_ptr[v], child_ptr[v + 1]):
            ch = children[t]
            br = bradius[ch]
            if br < 0.0:
                continue
            d = _dist(metric, X[x], points, ch)
            if d - br <= r + PRUNE_RTOL * (d + br):
                if top >= stack.shape[0]:
                    stack = _grow(stack, top + 1)
                stack[top] = ch
                top += 1
    return c, stack


@njit(cache=True, nogil=True)
def _tree_range(metric, points, child_ptr, children, root, X, lev, att_ptr, att_idx, bradius,
                offsets, ei, ej, counts, lo, hi):
    """Tree conflicts of batch points lo:hi: counted (``ei`` empty), or written at offsets."""
    fill = ei.shape[0] > 0
    stack = np.empty(64, np.int64)
    for x in range(lo, hi):
        if fill and counts[x] == 0:
            continue
        cnt, stack = _tree_probe(metric, points, child_ptr, children, root, X, lev, att_ptr,
                                 att_idx, bradius, x, stack, ei, ej,
                                 offsets[x] if fill else 0, fill)
        if not fill:
            counts[x] = cnt


def conflict_tree(metric, points, parent, child_ptr, children, root, X, lev, par):
    """Conflict pairs found by searching the tree the batch is about to join.

    Each batch point hangs under its parent; a node's batch radius bounds the
    distance to every batch point below it, so from x the search prunes every
    subtree whose lower bound exceeds 2^lev[x]. A pair is looked up from its
    lower-level end (ties: the smaller index) and decided by the exact test.
    """
    check_width(metric, points.shape[1])
    check_width(metric, X.shape[1])
    b = X.shape[0]
    att_ptr, att_idx, bradius = batch_radii(metric, points, parent, X, par)
    counts = np.zeros(b, np.int64)
    empty = np.empty(0, np.int64)
    args = (metric, points, child_ptr, children, root, X, lev, att_ptr, att_idx, bradius)
    for_chunks(_tree_range, b, (*args, empty, empty, empty, counts), grain=PROBE_GRAIN)
    offsets = _offsets(counts)
    ei = np.empty(offsets[-1], np.int64)
    ej = np.empty(offsets[-1], np.int64)
    if offsets[-1] > 0:
        for_chunks(_tree_range, b, (*args, offsets, ei, ej, counts), grain=PROBE_GRAIN)
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
