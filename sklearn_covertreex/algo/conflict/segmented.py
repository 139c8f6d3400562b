"""Segmented conflict graph: a sweep over points sorted by distance to a pivot.

By the triangle inequality ``|d(x, p) - d(y, p)| <= d(x, y)``, so a point only
needs to be compared with the points whose pivot distance lies within its own
conflict scale ``2**lev`` ahead of it in sorted order. Works for any metric.
"""

from __future__ import annotations

import numpy as np

from ..view import Context


def conflict_segmented(
    ctx: Context, X: np.ndarray, lev: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """All conflicting pairs among the rows of ``X``, by a pivot-sorted sweep."""
    if X.shape[0] < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    backend = ctx.backend
    # a far point as pivot spreads the keys out (like a projection)
    pivot = int(np.argmax(backend.distances_to_point(X, X[0])))
    key = backend.distances_to_point(X, X[pivot])
    order = np.argsort(key, kind="stable")
    ei, ej = backend.conflict_sweep(
        np.ascontiguousarray(X[order]), np.ascontiguousarray(lev[order]), key[order]
    )
    a, b = order[ei], order[ej]
    return np.minimum(a, b), np.maximum(a, b)
