"""Conflict-graph and maximal-independent-set kernels (CUDA).

Every conflict graph is found in two launches of one kernel, a thread per
source: the first counts each source's pairs, the second writes them at
the counts' offsets (the numba kernels' scheme,
:mod:`sklearn_covertreex.backends.numba.conflict`, with the same tests):

* ``conflict_dense``: each row against every later row;
* ``conflict_cells``: the level loop and the tables of hashed cells on the
  host (:func:`~sklearn_covertreex.backends.cell_hash.grid_conflicts`, the
  tables sorted by numpy), each source probing the cells of its window on
  the GPU with the numba kernel's cells, hashes and slack;
* ``conflict_tree``: each batch point searches the tree for batch points
  within reach, its stack in a fixed-capacity scratch slice (rerun with
  twice the capacity on overflow); the batch radii are atomic maxima.

``luby_mis`` runs the numpy reference's rounds as three kernels per round
over the edge list (who is beaten, who joins, who drops out), so the set
and the number of rounds are the reference's.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda

from ..cell_hash import FNV_OFFSET, FNV_PRIME, grid_conflicts
from ..contract import CELL_CLAMP, CELL_RTOL, PRUNE_RTOL
from ..numba.conflict import _offsets
from ..numpy._arrays import attachment
from ._device import filled, launch, rerun_overflowing, to_device, to_host
from .distance import check_width, row_dist

#: Starting capacity of a tree conflict search's stack.
STACK0 = 64


def _two_passes(run_pass, n):
    """Count (``run_pass(None, None)`` returns host counts), then fill at the offsets."""
    counts = run_pass(None, None)
    offsets = _offsets(counts)
    ei, ej = cuda.device_array(offsets[-1], np.int64), cuda.device_array(offsets[-1], np.int64)
    if offsets[-1] > 0:
        run_pass(to_device(offsets), (ei, ej))
    return to_host(ei), to_host(ej)


@cuda.jit
def _dense_kernel(X, cover, offsets, ei, ej, counts):
    """Conflicts of row i with the later rows: counted (``ei`` empty), or written at offsets."""
    i = cuda.grid(1)
    n = X.shape[0]
    if i >= n:
        return
    fill = ei.shape[0] > 0
    c = 0
    for j in range(i + 1, n):
        if row_dist(X, i, X, j) <= min(cover[i], cover[j]):  # 2^min(lev[i], lev[j])
            if fill:
                ei[offsets[i] + c] = i
                ej[offsets[i] + c] = j
            c += 1
    counts[i] = c


def conflict_dense(metric, X, lev):
    """All pairs i < j with ``d(X[i], X[j]) <= 2**min(lev[i], lev[j])``."""
    check_width(metric, X.shape[1])
    n = X.shape[0]
    Xd, cd = to_device(X), to_device(np.ldexp(1.0, np.asarray(lev, np.int64)))
    counts = filled(n, 0, np.int64)
    empty = cuda.device_array(0, np.int64)

    def run_pass(offsets, out):
        ei, ej = out if out is not None else (empty, empty)
        launch(_dense_kernel, n, Xd, cd, empty if offsets is None else offsets, ei, ej, counts)
        return to_host(counts)

    return _two_passes(run_pass, n)


@cuda.jit(device=True)
def _cell(y, side):
    """Integer cell of y on a grid of side ``side``, clamped first (as the numba kernel)."""
    v = min(max(y / side, -CELL_CLAMP), CELL_CLAMP)
    return np.int64(math.floor(v))


@cuda.jit(device=True)
def _lower_bound(a, lo, hi, v):
    """First position p in lo:hi of the sorted ``a`` with ``a[p] >= v`` (hi if none)."""
    while lo < hi:
        mid = (lo + hi) // 2
        if a[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@cuda.jit
def _cells_kernel(X, lev, cover, Y, y_rtol, grid, sh, st, sources, window, counts, offsets,
                  ei, ej):
    """Grid conflicts of ``sources[s]`` with the table (sh, st): counted, or written.

    ``window[s]`` is the source's scratch of three rows of ``Y.shape[1]``
    cells (first cell, span, current cell) of its look-up window.
    """
    s = cuda.grid(1)
    if s >= sources.shape[0]:
        return
    fill = ei.shape[0] > 0
    if fill and counts[s] == 0:
        return
    k = Y.shape[1]
    lo_cell = window[s, 0]
    span = window[s, 1]
    cells = window[s, 2]
    n_table = sh.shape[0]
    i = sources[s]
    at = offsets[s] if fill else 0
    a = lev[i]
    r = cover[i]
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
        h = FNV_OFFSET
        if not every:
            rest = code
            for t in range(k):
                cells[t] = lo_cell[t] + rest % span[t]
                rest //= span[t]
                h = (h ^ np.uint64(cells[t])) * FNV_PRIME
            p = _lower_bound(sh, 0, n_table, h)
        while p < n_table and (every or sh[p] == h):
            j = st[p]
            if j != i and (lev[j] != a or j > i):
                if row_dist(X, i, X, j) <= min(r, cover[j]):
                    if fill:
                        ei[at + c] = i if i < j else j
                        ej[at + c] = j if i < j else i
                    c += 1
            p += 1
    if not fill:
        counts[s] = c


def conflict_cells(metric, X, lev, Y, y_rtol):
    """Conflict pairs found through a grid over a 1-Lipschitz embedding ``Y``.

    ``|Y[i, t] - Y[j, t]| <= d(i, j)`` must hold up to a rounding error of
    ``y_rtol * |Y|``; a point of level a looks up the points of level >= a
    in the cells around its own on a grid of side ``2**a`` (widened by the
    slack) and every candidate is decided by the exact distance test. Pairs
    may repeat (hash collisions).
    """
    check_width(metric, X.shape[1])
    lev = np.asarray(lev, np.int64)
    Y = np.asarray(Y, np.float64)
    Xd, ld, Yd = to_device(X), to_device(lev), to_device(Y)
    cd = to_device(np.ldexp(1.0, lev))
    empty = cuda.device_array(0, np.int64)

    def probe(sources, grid, sh, st):
        m = sources.shape[0]
        args = (Xd, ld, cd, Yd, float(y_rtol), float(grid), to_device(sh), to_device(st),
                to_device(sources, np.int64), cuda.device_array((m, 3, max(Y.shape[1], 1)),
                                                                np.int64))
        counts = filled(m, 0, np.int64)

        def run_pass(offsets, out):
            ei, ej = out if out is not None else (empty, empty)
            launch(_cells_kernel, m, *args, counts, empty if offsets is None else offsets, ei, ej)
            return to_host(counts)

        ei, ej = _two_passes(run_pass, m)
        return (ei, ej) if ei.shape[0] else None

    return grid_conflicts(probe, lev, Y)


@cuda.jit
def _batch_radii_kernel(points, parent, X, par, bradius):
    """Raise ``bradius`` of every ancestor of batch point y's parent to its distance."""
    y = cuda.grid(1)
    if y >= X.shape[0]:
        return
    a = par[y]
    while a >= 0:
        cuda.atomic.max(bradius, a, row_dist(X, y, points, a))
        a = parent[a]


@cuda.jit
def _tree_kernel(points, child_ptr, children, root, X, lev, cover, att_ptr, att_idx, bradius,
                 rows, stack, counts, offsets, ei, ej, over):
    """Tree conflicts of batch point ``rows[t]``: counted (``ei`` empty), or written at offsets."""
    t = cuda.grid(1)
    if t >= rows.shape[0]:
        return
    x = rows[t]
    over[t] = False
    fill = ei.shape[0] > 0
    if fill and counts[x] == 0:
        return
    at = offsets[x] if fill else 0
    st = stack[t]
    cap = st.shape[0]
    r = cover[x]
    c = 0
    if bradius[root] >= 0.0:
        d0 = row_dist(X, x, points, root)
        top = 0
        if not d0 - bradius[root] > r + PRUNE_RTOL * (d0 + bradius[root]):
            st[0] = root
            top = 1
        while top > 0:
            top -= 1
            v = st[top]
            for e in range(att_ptr[v], att_ptr[v + 1]):
                y = att_idx[e]
                if lev[y] < lev[x] or (lev[y] == lev[x] and y <= x):
                    continue
                if row_dist(X, x, X, y) <= r:
                    if fill:
                        ei[at + c] = min(x, y)
                        ej[at + c] = max(x, y)
                    c += 1
            for e in range(child_ptr[v], child_ptr[v + 1]):
                ch = children[e]
                br = bradius[ch]
                if br < 0.0:
                    continue
                d = row_dist(X, x, points, ch)
                if d - br <= r + PRUNE_RTOL * (d + br):
                    if top >= cap:
                        over[t] = True
                        return
                    st[top] = ch
                    top += 1
    if not fill:
        counts[x] = c


def conflict_tree(metric, points, parent, child_ptr, children, root, X, lev, par):
    """Conflict pairs found by searching the tree the batch is about to join.

    Batch point y hangs under node ``par[y]``; a node's batch radius bounds
    the distance to every batch point below it, so from x the search prunes
    every subtree whose lower bound exceeds ``2**lev[x]``. A pair is looked
    up from its lower-level end (ties: the smaller index), so each is
    reported once.
    """
    check_width(metric, points.shape[1])
    check_width(metric, X.shape[1])
    b = X.shape[0]
    parent = np.asarray(parent, np.int64)
    att_ptr, att_idx = attachment(par, parent.shape[0])
    pd, Xd, pard = to_device(points), to_device(X), to_device(par, np.int64)
    bradius = filled(parent.shape[0], -1.0, np.float64)
    launch(_batch_radii_kernel, b, pd, to_device(parent), Xd, pard, bradius)
    args = (pd, to_device(child_ptr, np.int64), to_device(children, np.int64), int(root), Xd,
            to_device(lev, np.int64), to_device(np.ldexp(1.0, np.asarray(lev, np.int64))),
            to_device(att_ptr), to_device(att_idx), bradius)
    counts = filled(b, 0, np.int64)
    empty = cuda.device_array(0, np.int64)

    def run_pass(offsets, out):
        ei, ej = out if out is not None else (empty, empty)
        offd = empty if offsets is None else offsets

        def run(rows, cap):
            m = rows.shape[0]
            over = filled(m, False, np.bool_)
            launch(_tree_kernel, m, *args, rows, cuda.device_array((m, cap), np.int64), counts,
                   offd, ei, ej, over)
            return to_host(over)

        rerun_overflowing(run, b, STACK0)
        return to_host(counts)

    return _two_passes(run_pass, b)


@cuda.jit
def _beaten_kernel(src, dst, priority, state, n_beaten):
    """Count, per undecided source, the undecided neighbours of higher priority."""
    e = cuda.grid(1)
    if e >= src.shape[0]:
        return
    u, v = src[e], dst[e]
    if state[u] == 0 and state[v] == 0 and priority[v] > priority[u]:
        cuda.atomic.add(n_beaten, u, 1)


@cuda.jit
def _join_kernel(state, n_beaten, join):
    """Undecided vertices beaten by no neighbour join the set."""
    v = cuda.grid(1)
    if v >= state.shape[0]:
        return
    join[v] = state[v] == 0 and n_beaten[v] == 0
    if join[v]:
        state[v] = 1
    n_beaten[v] = 0


@cuda.jit
def _drop_kernel(src, dst, state, join):
    """The undecided neighbours of joined vertices drop out."""
    e = cuda.grid(1)
    if e >= src.shape[0]:
        return
    if join[src[e]] and state[dst[e]] == 0:
        state[dst[e]] = 2


def luby_mis(indptr, indices, priority):
    """Maximal independent set of a CSR graph (Luby's rounds, distinct priorities).

    A vertex joins when its priority beats every undecided neighbour's; the
    neighbours of joined vertices drop out. Returns (bool mask, number of rounds).
    """
    indptr = np.asarray(indptr, np.int64)
    n = indptr.shape[0] - 1
    if n == 0:
        return np.zeros(0, bool), 0
    ne = int(indptr[-1])
    src = to_device(np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr)))
    dst = to_device(np.asarray(indices, np.int64)[:ne])
    pr = to_device(priority)
    state = filled(n, 0, np.int8)  # 0 undecided, 1 in, 2 out
    n_beaten, join = filled(n, 0, np.int64), filled(n, False, np.bool_)
    rounds = 0
    while True:
        host = to_host(state)
        if not (host == 0).any():
            return host == 1, rounds
        rounds += 1
        launch(_beaten_kernel, ne, src, dst, pr, state, n_beaten)
        launch(_join_kernel, n, state, n_beaten, join)
        launch(_drop_kernel, ne, src, dst, state, join)
