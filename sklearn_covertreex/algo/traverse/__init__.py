"""Traversal strategies: find each batch point's insertion level and parent.

A traversal is ``f(ctx, view, X) -> (level, parent, dup)``: for each row of X,
the level it would take in the tree, its parent node, and the node it
duplicates exactly (-1 if none; then level and parent are meaningless).
"""

from .dense import traverse_dense
from .sparse import traverse_sparse

__all__ = ["traverse_dense", "traverse_sparse"]
