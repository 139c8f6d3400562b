"""scikit-learn estimators over the cover tree."""

from .classification import CoverTreeKNeighborsClassifier
from .neighbors import CoverTreeNeighbors
from .regression import CoverTreeKNeighborsRegressor
from .residual import ResidualCoverTreeNeighbors
from .transformer import CoverTreeKNeighborsTransformer

__all__ = [
    "CoverTreeKNeighborsClassifier",
    "CoverTreeKNeighborsRegressor",
    "CoverTreeKNeighborsTransformer",
    "CoverTreeNeighbors",
    "ResidualCoverTreeNeighbors",
]
