"""Conflict-graph and maximal-independent-set kernels (numpy reference)."""

from __future__ import annotations

import math

import numpy as np

from ..cell_hash import grid_cells, look_up_window
from ..contract import PRUNE_RTOL
from ._arrays import _ranges, ancestor_generations, attachment
from .distance import _diff_dists, _dist, check_width


def _in_conflict(metric, X, lev, i, j) -> np.ndarray:
    """Mask of the pairs (i[t], j[t]) with d(X[i], X[j]) <= 2^min(lev[i], lev[j])."""
    scale = np.ldexp(1.0, np.minimum(lev[i], lev[j]).astype(np.int64))
    return _diff_dists(metric, X[i], X[j]) <= scale


def conflict_dense(metric, X, lev):
    """All pairs i < j with d(X[i], X[j]) <= 2^min(lev[i], lev[j]), as (ei, ej) int64."""
    check_width(metric, X.shape[1])
    n = X.shape[0]
    ei, ej = [], []
    for i in range(n):
        j = np.arange(i + 1, n)
        j = j[_in_conflict(metric, X, lev, np.full(j.shape[0], i), j)]
        ei.append(np.full(j.shape[0], i, np.int64))
        ej.append(j)
    none = np.empty(0, np.int64)
    return np.concatenate([*ei, none]), np.concatenate([*ej, none]).astype(np.int64)


def conflict_cells(metric, X, lev, Y, y_rtol):
    """Conflict pairs found through a grid over an embedding Y of the points.

    Y (n, k) must satisfy |Y[i, t] - Y[j, t]| <= d(i, j) for every column t,
    up to a rounding error of ``y_rtol * |Y|``. A point of level a looks up
    the points of level >= a in the cells around its own on a grid of side
    2^a: one cell either way, widened by the rounding slack so no conflicting
    pair is missed; where the slack exceeds a cell, every point of level >= a
    is a candidate. Every candidate pair is then decided by the exact
    distance test.

    Returns
    -------
    (ei, ej) : int64 arrays
        Pairs (min(i, j), max(i, j)) of conflicting points, each once.
    """
    check_width(metric, X.shape[1])
    lev = np.asarray(lev, np.int64)
    Y = np.asarray(Y, np.float64)
    k = Y.shape[1]
    # every offset a widened look-up can need: lo + {0, 1, 2, 3} per column
    grid = np.array(np.meshgrid(*([np.arange(4)] * k), indexing="ij")).reshape(k, -1).T
    out_i, out_j = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    for a in np.unique(lev).tolist():
        side = math.ldexp(1.0, a)
        cells = grid_cells(Y, side)
        targets = np.flatnonzero(lev >= a)
        sources = np.flatnonzero(lev == a)
        ys = Y[sources]
        lo, span, unresolved = look_up_window(ys, side, y_rtol)
        hi = lo + span - 1
        # the cells each source looks at, one row per (source, offset)
        wanted = lo[~unresolved][:, None, :] + grid[None, :, :]
        inside = np.all(wanted <= hi[~unresolved][:, None, :], axis=2).reshape(-1)
        wanted = wanted.reshape(-1, k)[inside]
        asker = np.repeat(sources[~unresolved], grid.shape[0])[inside]
        # label cells so that equal rows of either array get the same label
        _, label = np.unique(
            np.concatenate([cells[targets], wanted]), axis=0, return_inverse=True
        )
        label = label.reshape(-1)
        t_label, w_label = label[: targets.shape[0]], label[targets.shape[0] :]
        # targets grouped by cell: each wanted cell is a range of ``by_cell``
        order = np.argsort(t_label, kind="stable")
        by_cell, sorted_label = targets[order], t_label[order]
        lo_pos = np.searchsorted(sorted_label, w_label, side="left")
        hi_pos = np.searchsorted(sorted_label, w_label, side="right")
        pos, owner = _ranges(lo_pos, hi_pos - lo_pos)
        i, j = asker[owner], by_cell[pos]
        # sources whose rounding slack exceeds a cell test every target
        far = sources[unresolved]
        i = np.concatenate([i, np.repeat(far, targets.shape[0])])
        j = np.concatenate([j, np.tile(targets, far.shape[0])])
        # pairs of two level-a points are looked up from both ends: keep one
        fresh = (j != i) & ~((lev[j] == a) & (j < i))
        i, j = i[fresh], j[fresh]
        hit = _in_conflict(metric, X, lev, i, j)
        i, j = i[hit], j[hit]
        out_i.append(np.minimum(i, j))
        out_j.append(np.maximum(i, j))
    return np.concatenate(out_i), np.concatenate(out_j)


def batch_radii(metric, points, parent, X, par):
    """Attachment CSR of batch points under their parents, and per-node batch radii.

    Returns (att_ptr, att_idx, bradius): the batch points under node v are
    ``att_idx[att_ptr[v]:att_ptr[v + 1]]``; ``bradius[v]`` is the largest
    distance from v to a batch point hanging in v's subtree (-1 if none).
    """
    att_ptr, att_idx = attachment(par, parent.shape[0])
    bradius = np.full(parent.shape[0], -1.0)
    for rows, anc in ancestor_generations(parent, np.arange(X.shape[0]), par):
        np.maximum.at(bradius, anc, _diff_dists(metric, X[rows], points[anc]))
    return att_ptr, att_idx, bradius


def conflict_tree(metric, points, parent, child_ptr, children, root, X, lev, par):
    """Conflict pairs found by searching the tree the batch is about to join.

    Each batch point hangs under its parent; a node's batch radius bounds the
    distance to every batch point below it, so the search from x prunes every
    subtree whose lower bound exceeds 2^lev[x]. A pair is looked up from its
    lower-level end (ties: the smaller index) and decided by the exact test.
    """
    check_width(metric, points.shape[1])
    check_width(metric, X.shape[1])
    lev = np.asarray(lev, np.int64)
    att_ptr, att_idx, bradius = batch_radii(metric, points, parent, X, par)
    out_i, out_j = [], []
    for x in range(X.shape[0]):
        r = math.ldexp(1.0, int(lev[x]))
        stack = [root] if bradius[root] >= 0 else []
        if stack:
            d0 = _dist(metric, X[x], points[root])
            if d0 - bradius[root] > r + PRUNE_RTOL * (d0 + bradius[root]):
                stack = []
        while stack:
            v = stack.pop()
            ys = att_idx[att_ptr[v] : att_ptr[v + 1]]
            ys = ys[(lev[ys] > lev[x]) | ((lev[ys] == lev[x]) & (ys > x))]
            if ys.size:
                hit = ys[_diff_dists(metric, X[ys], X[x]) <= r]
                out_i.append(np.minimum(hit, x))
                out_j.append(np.maximum(hit, x))
            ch = children[child_ptr[v] : child_ptr[v + 1]]
            ch = ch[bradius[ch] >= 0]
            if ch.size:
                d = _diff_dists(metric, points[ch], X[x])
                br = bradius[ch]
                stack.extend(ch[d - br <= r + PRUNE_RTOL * (d + br)].tolist())
    if not out_i:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return (np.concatenate(out_i).astype(np.int64), np.concatenate(out_j).astype(np.int64))


def luby_mis(indptr, indices, priority):
    """Maximal independent set of a graph in CSR form (Luby's rounds).

    A vertex joins when its priority beats every undecided neighbour's; the
    neighbours of joined vertices drop out. Priorities must be distinct.
    Returns (bool mask, number of rounds).
    """
    n = indptr.shape[0] - 1
    src = np.repeat(np.arange(n), np.diff(indptr))
    dst = np.asarray(indices, np.int64)
    state = np.zeros(n, np.int8)  # 0 undecided, 1 in, 2 out
    rounds = 0
    while (state == 0).any():
        rounds += 1
        und = state == 0
        beaten = und[src] & und[dst] & (priority[dst] > priority[src])
        join = und & (np.bincount(src[beaten], minlength=n) == 0)
        state[join] = 1
        hit = np.zeros(n, bool)
        hit[dst[join[src]]] = True
        state[hit & (state == 0)] = 2
    return state == 1, rounds
