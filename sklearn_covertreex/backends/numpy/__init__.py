"""The numpy backend: a readable, single-threaded reference for the tree kernels.

Every kernel has the signature and the results of its namesake in the
numba backend (same file name, same function name) and takes the same
decisions: the same tie-breaking, the same exact powers of two, the same
pruning slack. Work is vectorised over children, candidate sets and pairs;
points and queries are handled one at a time. The contract is
:mod:`sklearn_covertreex.backends.contract`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .build import (
    distances_to_point,
    find_parents,
    pair_distances,
    subtree_radii,
    traverse_sparse,
    update_radii,
)
from .conflict import conflict_cells, conflict_dense, conflict_tree, luby_mis
from .query import knn, radius_count, radius_fill

name = "numpy"


@contextmanager
def threads(n_threads: int) -> Iterator[None]:
    """Do nothing: the numpy backend is single-threaded."""
    yield


__all__ = [
    "conflict_cells",
    "conflict_dense",
    "conflict_tree",
    "distances_to_point",
    "find_parents",
    "knn",
    "luby_mis",
    "name",
    "pair_distances",
    "radius_count",
    "radius_fill",
    "subtree_radii",
    "threads",
    "traverse_sparse",
    "update_radii",
]
