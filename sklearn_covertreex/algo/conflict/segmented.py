"""Segmented conflict graph: cells in pivot-distance space (any metric).

By the triangle inequality ``|d(x, p) - d(y, p)| <= d(x, y)`` for any pivot p,
so the distances to a few pivots form a 1-Lipschitz embedding: a conflicting
pair at scale ``2**a`` lands in neighbouring cells of side ``2**a`` there.
Pivots are chosen by farthest-point traversal of the batch.
"""

from __future__ import annotations

import numpy as np

from ..view import Context, TreeView
from ._cells import cell_conflicts

N_PIVOTS = 3
# bound on the relative rounding error of a computed pivot distance
PIVOT_RTOL = 1e-12


def conflict_segmented(
    ctx: Context, view: TreeView, X: np.ndarray, lev: np.ndarray, par: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """All conflicting pairs among the rows of ``X``, via pivot-distance cells."""
    n = X.shape[0]
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    backend = ctx.backend
    Y = np.empty((n, min(N_PIVOTS, n)))
    nearest = np.full(n, np.inf)
    pivot = 0
    for t in range(Y.shape[1]):
        Y[:, t] = backend.distances_to_point(ctx.kernel_metric, X, X[pivot])
        np.minimum(nearest, Y[:, t], out=nearest)
        pivot = int(np.argmax(nearest))
    return cell_conflicts(ctx, X, lev, Y, PIVOT_RTOL)
