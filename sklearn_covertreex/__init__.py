"""sklearn_covertreex: exact nearest neighbours on a parallel compressed cover tree."""

from .api import CoverTree, QueryDiagnostics, merge_knn
from .core import TreeArrays, TreeInvariantError, check_invariants
from .estimators import (
    CoverTreeKNeighborsClassifier,
    CoverTreeKNeighborsRegressor,
    CoverTreeKNeighborsTransformer,
    CoverTreeNeighbors,
    ResidualCoverTreeNeighbors,
)
from .runtime import Runtime

__version__ = "0.1.0.dev0"

__all__ = [
    "CoverTree",
    "CoverTreeKNeighborsClassifier",
    "CoverTreeKNeighborsRegressor",
    "CoverTreeKNeighborsTransformer",
    "CoverTreeNeighbors",
    "QueryDiagnostics",
    "ResidualCoverTreeNeighbors",
    "Runtime",
    "TreeArrays",
    "TreeInvariantError",
    "__version__",
    "check_invariants",
    "merge_knn",
]
