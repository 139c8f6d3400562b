"""Conflict-graph strategies.

Two batch points x, y that would be inserted at levels l_x, l_y conflict when
``d(x, y) <= 2**min(l_x, l_y)``: inserting both would break separation.
A strategy is ``f(ctx, view, X, lev, par) -> (ei, ej)``, the conflicting
pairs i < j, given the current tree (``view``) and each point's level and
parent node.
All strategies decide each pair with the same distance test, so they return
the same edge set.
"""

from .dense import conflict_dense
from .grid import conflict_grid
from .segmented import conflict_segmented
from .tree import conflict_tree

__all__ = ["conflict_dense", "conflict_grid", "conflict_segmented", "conflict_tree"]
