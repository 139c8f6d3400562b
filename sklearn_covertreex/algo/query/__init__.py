"""Exact batched queries: k nearest neighbours, radius search, predecessors, merges."""

from .knn import knn_query
from .merge import drop_self_csr, drop_self_knn, merge_knn, place_csr_rows
from .predecessor import predecessor_knn
from .radius import radius_query

__all__ = ["drop_self_csr", "drop_self_knn", "knn_query", "merge_knn", "place_csr_rows",
           "predecessor_knn", "radius_query"]
