"""Dense conflict graph: every pair is tested (O(b^2) work, O(edges) memory)."""

from __future__ import annotations

import numpy as np

from ..view import Context, TreeView


def conflict_dense(
    ctx: Context, view: TreeView, X: np.ndarray, lev: np.ndarray, par: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """All conflicting pairs among the rows of ``X``, by testing every pair."""
    return ctx.backend.conflict_dense(ctx.kernel_metric, X, lev)
