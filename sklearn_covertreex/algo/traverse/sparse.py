"""Sparse traversal: one branch-and-bound search per point, parallel over points.

Each point looks for its nearest *covering* node (a node y with
``d(x, y) <= 2**level(y)``), pruning subtrees with the exact subtree radii
the builder maintains; that node is the parent and ``ceil(log2 d) - 1`` the
level. It gives the same answer as the level-synchronous dense traversal.
"""

from __future__ import annotations

import numpy as np

from ..view import Context, TreeView


def traverse_sparse(
    ctx: Context, view: TreeView, X: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Insertion level, parent and duplicate node of each row of ``X``."""
    return ctx.backend.traverse_sparse(
        ctx.kernel_metric, view.points, view.level, view.radius, view.parent_dist,
        view.child_ptr, view.children, view.root, X,
    )
