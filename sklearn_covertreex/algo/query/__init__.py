"""Exact batched queries: k nearest neighbours and radius search."""

from .knn import knn_query
from .radius import radius_query

__all__ = ["knn_query", "radius_query"]
