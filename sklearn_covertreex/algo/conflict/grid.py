"""Grid conflict graph (Euclidean only): hash points into cells of their scale.

A conflicting pair (x, y) with ``lev[x] <= lev[y]`` differs by at most
``2**lev[x]`` in every coordinate, so on a grid of side ``2**lev[x]`` over a
few high-spread coordinates, y lies in one of the 3**k cells around x. For
each level a present in the batch, the points of level a look up the points
of level >= a in those cells; only candidate pairs get a distance test.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..view import Context

MAX_GRID_DIMS = 3


def conflict_grid(ctx: Context, X: np.ndarray, lev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All conflicting pairs among the rows of ``X``, via cell hashing."""
    if not getattr(ctx.metric, "has_coordinates", False):
        raise ValueError(
            "conflict_graph='grid' needs coordinates and works for the Euclidean metric "
            "only; use 'segmented' or 'dense'"
        )
    n = X.shape[0]
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    spread = X.max(axis=0) - X.min(axis=0)
    dims = np.argsort(-spread, kind="stable")[: min(MAX_GRID_DIMS, X.shape[1])]
    Y = X[:, dims]
    offsets = np.array(list(itertools.product((-1.0, 0.0, 1.0), repeat=dims.size)))
    all_i: list[np.ndarray] = []
    all_j: list[np.ndarray] = []
    for a in np.unique(lev):
        side = np.ldexp(1.0, int(a))
        targets = np.flatnonzero(lev >= a)
        sources = np.flatnonzero(lev == a)
        t_cells = np.floor(Y[targets] / side)
        s_cells = np.floor(Y[sources] / side)
        probe = (s_cells[:, None, :] + offsets[None, :, :]).reshape(-1, dims.size)
        probe_src = np.repeat(sources, offsets.shape[0])
        # label cells exactly (float rows, no integer overflow at any scale)
        _, labels = np.unique(np.concatenate((t_cells, probe)), axis=0, return_inverse=True)
        labels = labels.ravel()
        t_lab, p_lab = labels[: targets.size], labels[targets.size :]
        order = np.argsort(t_lab, kind="stable")
        t_sorted = t_lab[order]
        lo = np.searchsorted(t_sorted, p_lab, side="left")
        hi = np.searchsorted(t_sorted, p_lab, side="right")
        cnt = hi - lo
        src = np.repeat(probe_src, cnt)
        pos = np.arange(src.size) - np.repeat(np.cumsum(cnt) - cnt, cnt) + np.repeat(lo, cnt)
        dst = targets[order[pos]]
        keep = (dst != src) & ~((lev[dst] == a) & (dst < src))
        all_i.append(src[keep])
        all_j.append(dst[keep])
    i = np.concatenate(all_i)
    j = np.concatenate(all_j)
    if i.size == 0:
        return i.astype(np.int64), j.astype(np.int64)
    d = ctx.backend.pair_distances(X, i, X, j)
    hit = d <= np.ldexp(1.0, np.minimum(lev[i], lev[j]))
    a_, b_ = np.minimum(i[hit], j[hit]), np.maximum(i[hit], j[hit])
    return a_.astype(np.int64), b_.astype(np.int64)
