"""Grid conflict graph (Euclidean only): hash points into cells of their scale.

A conflicting pair (x, y) with ``lev[x] <= lev[y]`` differs by at most
``2**lev[x]`` in every coordinate, so on a grid of side ``2**lev[x]`` over the
(at most 3) coordinates of largest spread, y lies in one of the 3**k cells
around x. Only those candidates get a distance test.
"""

from __future__ import annotations

import numpy as np

from ..coordinates import check_coordinates
from ..view import Context, TreeView
from ._cells import cell_conflicts

MAX_GRID_DIMS = 3


def conflict_grid(
    ctx: Context, view: TreeView, X: np.ndarray, lev: np.ndarray, par: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """All conflicting pairs among the rows of ``X``, via cell hashing on coordinates."""
    check_coordinates(ctx.metric, "conflict_graph", "grid")
    if X.shape[0] < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    spread = X.max(axis=0) - X.min(axis=0)
    dims = np.argsort(-spread, kind="stable")[: min(MAX_GRID_DIMS, X.shape[1])]
    # differences of raw coordinates are exact: no slack relative to |Y| is needed
    return cell_conflicts(ctx, X, lev, X[:, dims], 0.0)
