"""Exact batched queries: k nearest neighbours and radius search."""

from .knn import knn_query
from .predecessor import predecessor_knn
from .radius import radius_query

__all__ = ["knn_query", "predecessor_knn", "radius_query"]
