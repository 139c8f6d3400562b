"""Sparse traversal: one candidate-set descent per point, parallel over points."""

from __future__ import annotations

import numpy as np

from ..view import Context, TreeView


def traverse_sparse(
    ctx: Context, view: TreeView, X: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Insertion level, parent and duplicate node of each row of ``X``."""
    return ctx.backend.traverse_sparse(
        view.points, view.level, view.child_ptr, view.children, view.root, X
    )
