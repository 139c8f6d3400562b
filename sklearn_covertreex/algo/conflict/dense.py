"""Dense conflict graph: every pair is tested (O(b^2) work, O(edges) memory)."""

from __future__ import annotations

import numpy as np

from ..view import Context


def conflict_dense(ctx: Context, X: np.ndarray, lev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All conflicting pairs among the rows of ``X``, by testing every pair."""
    return ctx.backend.conflict_dense(X, lev)
