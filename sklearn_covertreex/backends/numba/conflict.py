"""Conflict-graph and maximal-independent-set kernels (numba).

Each conflict graph is found in two passes over the sources, both GIL-free
compiled range kernels run over chunks (:func:`sklearn_covertreex._parallel.for_chunks`): one
counts each source's pairs, one writes them at the counts' offsets (one range
kernel each, counting where its output arrays are empty).

The maximal independent set is the numpy backend's vectorised Luby rounds:
they take milliseconds on the conflict graphs a build makes, and a compiled
version cost 1.3 s of every cold start.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..._parallel import for_chunks
from ..cell_hash import FNV_OFFSET, FNV_PRIME, grid_conflicts
from ..contract import CELL_CLAMP, CELL_RTOL, PRUNE_RTOL
from ..numpy.conflict import luby_mis  # noqa: F401  (re-exported: see the module docstring)
from .distance import _dist, _row_dist, rows
from .heaps import _grow

#: Fewest sources per chunk of an all-pairs scan.
PAIR_GRAIN = 16
#: Fewest sources per chunk of a grid or tree probe.
PROBE_GRAIN = 64


@njit(cache=True, nogil=True)
def _dense_range(metric, X, lev, offsets, ei, ej, counts, lo, hi):
    """Conflicts of rows lo:hi with the later rows: counted, or written at offsets."""
    n = X.shape[0]
    fill = ei.shape[0] > 0
    for i in range(lo, hi):
        c = 0
        for j in range(i + 1, n):
            if _row_dist(metric, X, i, X, j) <= math.ldexp(1.0, min(lev[i], lev[j])):
                if fill:
                    ei[offsets[i] + c] = i
                    ej[offsets[i] + c] = j
                c += 1
        counts[i] = c


def conflict_dense(metric, X, lev):
    """All pairs i < j with d(X[i], X[j]) <= 2^min(lev[i], lev[j])."""
    X = rows(metric, X)
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
    """Integer cell index of y on a grid of side ``side`` (clamped, so monotone).

    Clamped before the conversion, as :func:`~sklearn_covertreex.backends.cell_hash.cell_table`
    does in numpy, so both give the same cell for every finite y.
    """
    v = min(max(y / side, -CELL_CLAMP), CELL_CLAMP)
    return np.int64(math.floor(v))


@njit(cache=True, inline="always")
def _hash_cells(cells):
    h = FNV_OFFSET
    for t in range(cells.shape[0]):
        h = (h ^ np.uint64(cells[t])) * FNV_PRIME
    return h


@njit(cache=True)
def _lower_bound(a, lo, hi, v):
    """First position p in lo:hi of the sorted ``a`` with a[p] >= v (hi if none).

    Written out: numba's ``np.searchsorted`` took about 0.8 s to compile.
    """
    while lo < hi:
        mid = (lo + hi) // 2
        if a[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _cells_range(metric, X, lev, cover, Y, y_rtol, grid, sh, st, sources, counts, offsets, ei,
                 ej, lo, hi):
    """Grid conflicts of ``sources[lo:hi]`` (one level a): counted (``ei`` empty), or written.

    Each source probes the table (sh, st) of points of level >= a, hashed on
    a grid of side ``grid >= 2^a``, in the cells around its own (see
    :func:`conflict_cells`); counts and offsets are per position in
    ``sources``. One function, not a per-source helper:
    numba optimises a callee again inside each caller, and the helper cost
    about 2 s of a cold start.
    """
    fill = ei.shape[0] > 0
    k = Y.shape[1]
    n_table = sh.shape[0]
    lo_cell = np.empty(k, np.int64)
    span = np.empty(k, np.int64)
    cells = np.empty(k, np.int64)
    for s in range(lo, hi):
        if fill and counts[s] == 0:
            continue
        i = sources[s]
        at = offsets[s] if fill else 0
        a = lev[i]
        r = cover[i]
        # the window of cell_hash.look_up_window; a span above 4 means the rounding
        # slack exceeds a cell: the grid cannot resolve this scale, so every
        # candidate of the level is tested (rare, exact)
        total = 1
        every = False
        for t in range(k):
            delta = CELL_RTOL * grid + y_rtol * (grid + 2.0 * abs(Y[i, t]))
            lo_cell[t] = _cell(Y[i, t] - delta, grid) - 1
            span[t] = _cell(Y[i, t] + delta, grid) + 2 - lo_cell[t]
            every = every or span[t] > 4
            total *= min(span[t], 4)
        c = 0
        for code in range(1 if every else total):
            p = 0
            h = np.uint64(0)
            if not every:
                rest = code
                for t in range(k):
                    cells[t] = lo_cell[t] + rest % span[t]
                    rest //= span[t]
                h = _hash_cells(cells)
                p = _lower_bound(sh, 0, n_table, h)
            # the pair test is written here, not in a helper: a helper taking the
            # arrays made this scan about 4x slower (measured, d=8)
            while p < n_table and (every or sh[p] == h):
                j = st[p]
                if j != i and (lev[j] != a or j > i):
                    if _row_dist(metric, X, i, X, j) <= min(r, cover[j]):
                        if fill:
                            ei[at + c] = i if i < j else j
                            ej[at + c] = j if i < j else i
                        c += 1
                p += 1
        if not fill:
            counts[s] = c


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
    The levels and tables are those of
    :func:`~sklearn_covertreex.backends.cell_hash.grid_conflicts`.
    """
    X = rows(metric, X)
    # 2^level per point, computed once: math.ldexp is a library call per use
    cover = np.ldexp(1.0, lev)

    def probe(sources, grid, sh, st):
        return _probe(metric, X, lev, cover, Y, float(y_rtol), grid, sh, st, sources)

    return grid_conflicts(probe, lev, Y)


def _probe(metric, X, lev, cover, Y, y_rtol, grid, sh, st, sources):
    """Conflict pairs of ``sources`` with the table (sh, st) on a grid of side ``grid``, or None."""
    empty = np.empty(0, np.int64)
    args = (metric, X, lev, cover, Y, y_rtol, grid, sh, st, sources)
    counts = np.zeros(sources.shape[0], np.int64)
    for_chunks(_cells_range, sources.shape[0], (*args, counts, empty, empty, empty),
               grain=PROBE_GRAIN)
    offsets = _offsets(counts)
    if offsets[-1] == 0:
        return None
    ei = np.empty(offsets[-1], np.int64)
    ej = np.empty(offsets[-1], np.int64)
    for_chunks(_cells_range, sources.shape[0], (*args, counts, offsets, ei, ej),
               grain=PROBE_GRAIN)
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
    points, X = rows(metric, points), rows(metric, X)
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
