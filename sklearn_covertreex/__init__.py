"""sklearn_covertreex: exact nearest neighbours on a parallel compressed cover tree."""

from .api import CoverTree
from .core import TreeArrays, TreeInvariantError, check_invariants
from .runtime import Runtime

__version__ = "0.1.0.dev0"

__all__ = ["CoverTree", "Runtime", "TreeArrays", "TreeInvariantError", "check_invariants",
           "__version__"]
