"""Shared helper: conflict pairs through a grid over a 1-Lipschitz embedding."""

from __future__ import annotations

import numpy as np

from ..view import Context


def cell_conflicts(
    ctx: Context, X: np.ndarray, lev: np.ndarray, Y: np.ndarray, y_rtol: float
) -> tuple[np.ndarray, np.ndarray]:
    """Conflicting pairs (i < j) of the rows of X, with candidates from a grid over Y.

    ``Y`` (n, k) must satisfy ``|Y[i, t] - Y[j, t]| <= d(X[i], X[j])`` for every
    column t, up to rounding of ``y_rtol * |Y|``, so a conflicting pair at
    scale 2^a lies in neighbouring cells.
    """
    if X.shape[0] < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    ei, ej = ctx.backend.conflict_cells(
        ctx.kernel_metric, X, np.ascontiguousarray(lev, dtype=np.int64),
        np.ascontiguousarray(Y, dtype=np.float64), float(y_rtol),
    )
    if ei.size == 0:
        return ei, ej
    # hash collisions can report a pair twice
    key = np.unique(ei.astype(np.int64) * X.shape[0] + ej)
    return key // X.shape[0], key % X.shape[0]
