"""The tree type (flat arrays) and its invariant checker."""

from .invariants import TreeInvariantError, check_invariants
from .tree import TreeArrays

__all__ = ["TreeArrays", "TreeInvariantError", "check_invariants"]
