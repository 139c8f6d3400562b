"""The numba backend: parallel compiled kernels (default on CPU)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numba

from ._numba_kernels import (
    conflict_cells,
    conflict_dense,
    conflict_tree,
    distances_to_point,
    find_parents,
    knn,
    luby_mis,
    pair_distances,
    radius_count,
    radius_fill,
    subtree_radii,
    traverse_sparse,
    update_radii,
)

name = "numba"

__all__ = [
    "conflict_dense",
    "conflict_tree",
    "conflict_cells",
    "distances_to_point",
    "find_parents",
    "knn",
    "luby_mis",
    "pair_distances",
    "radius_count",
    "radius_fill",
    "subtree_radii",
    "threads",
    "traverse_sparse",
    "update_radii",
]


@contextmanager
def threads(n_jobs: int | None) -> Iterator[None]:
    """Run the enclosed kernels on ``n_jobs`` numba threads (None or -1: all)."""
    limit = numba.config.NUMBA_NUM_THREADS
    if n_jobs is None or n_jobs == -1:
        wanted = limit
    elif n_jobs < 0:
        wanted = max(1, limit + 1 + n_jobs)
    else:
        wanted = n_jobs
    wanted = max(1, min(wanted, limit))
    previous = numba.get_num_threads()
    numba.set_num_threads(wanted)
    try:
        yield
    finally:
        numba.set_num_threads(previous)
