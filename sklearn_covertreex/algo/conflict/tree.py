"""Tree conflict graph: search the tree the batch is about to join (any metric).

Each batch point hangs under the parent its traversal found. For every node,
the largest distance to a batch point hanging below it (its *batch radius*)
is computed once; then each point x searches the tree for batch points within
``2**lev[x]``, pruning every subtree whose lower bound ``d(x, v) - radius``
is larger. It costs about one small radius query per point in any dimension;
the grids degrade as the intrinsic dimension grows, but the batch radii of the
top nodes cover most of the batch, so in practice this search was 2-7x slower
than the pivot grid on every Euclidean workload measured (W1-W3, up to d = 16;
doc/benchmarks.md).
"""

from __future__ import annotations

import numpy as np

from ..view import Context, TreeView


def conflict_tree(
    ctx: Context, view: TreeView, X: np.ndarray, lev: np.ndarray, par: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """All conflicting pairs among the rows of ``X``, by a pruned tree search."""
    if X.shape[0] < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return ctx.backend.conflict_tree(
        ctx.kernel_metric, view.points, view.parent, view.child_ptr, view.children, view.root,
        X, np.ascontiguousarray(lev, dtype=np.int64), np.ascontiguousarray(par, dtype=np.int64),
    )
