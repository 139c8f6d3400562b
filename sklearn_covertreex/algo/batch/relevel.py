"""Insertion level and parent of the points an MIS round left out, without a new search.

After a round attaches the independent set, a point ``x`` that lost keeps a
valid place unless one of the new nodes breaks separation with it, and the
only new nodes that can are those it conflicts with (its neighbours in the
conflict graph): every other new node ``z`` already has
``d(x, z) > 2^min(level(x), level(z))``. A conflicting new node ``w`` covers
``x`` (``d(x, w) <= 2^min(level(x), level(w)) <= 2^level(w)``), so ``x``
moves under the nearest of its old parent and those ``w``, at
``ceil(log2 m) - 1`` for that distance ``m``, which is at most its old level.
``doc/algorithm.md`` ("Rounds after the first") has the proof.
"""

from __future__ import annotations

import numpy as np

from ...backends.contract import ceil_log2_array
from ..view import Context


def relevel_losers(ctx: Context, X: np.ndarray, lev: np.ndarray, par: np.ndarray,
                   chosen: np.ndarray, ei: np.ndarray, ej: np.ndarray, nodes: np.ndarray,
                   points: np.ndarray, node_level: np.ndarray,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """New (level, parent, duplicate, exact) of the rows of ``X`` not ``chosen``.

    Parameters
    ----------
    ctx : Context
    X : ndarray (m, width)
        The round's rows; ``lev``, ``par`` their levels and parents, ``chosen``
        the MIS, ``(ei, ej)`` the conflict edges (row indices).
    nodes : ndarray (chosen.sum(),)
        The nodes the chosen rows became, in row order.
    points, node_level : ndarray
        Rows and levels of the tree's nodes, the new ones included.

    Returns
    -------
    level, parent, duplicate : ndarray (number of losers,), int64
        For the losers in row order; ``duplicate`` is the node a loser
        equals (-1 if none).
    exact : ndarray (number of losers,), bool
        False where a conflicting new node, by rounding, measured farther
        than its cover radius: that row must search the tree again.
    """
    lose = np.flatnonzero(~chosen)
    slot = np.full(chosen.size, -1, np.int64)
    slot[lose] = np.arange(lose.size)
    node_of = np.full(chosen.size, -1, np.int64)
    node_of[np.flatnonzero(chosen)] = nodes
    src, dst = np.concatenate((ei, ej)), np.concatenate((ej, ei))
    keep = ~chosen[src] & chosen[dst]
    src, dst = src[keep], dst[keep]
    rows = np.concatenate((lose, src))
    cand = np.concatenate((par[lose], node_of[dst]))
    d = ctx.backend.pair_distances(ctx.kernel_metric, X, rows, points, cand)
    covers = d <= np.ldexp(1.0, node_level[cand])
    exact = np.ones(lose.size, dtype=bool)
    exact[slot[rows[~covers]]] = False
    d = np.where(covers, d, np.inf)
    order = np.lexsort((cand, d, slot[rows]))
    first = order[np.unique(slot[rows[order]], return_index=True)[1]]
    best, best_d = cand[first], d[first]
    moved = best != par[lose]
    new_lev = lev[lose].copy()
    new_lev[moved] = ceil_log2_array(np.maximum(best_d[moved], np.finfo(float).tiny)) - 1
    # a level above the old one would need the old tree's separation again:
    # only rounding between kernels at a power of two can get there
    exact &= np.isfinite(best_d) & (new_lev <= lev[lose])
    dup = np.where(best_d == 0.0, best, -1)
    return new_lev, best, dup, exact
