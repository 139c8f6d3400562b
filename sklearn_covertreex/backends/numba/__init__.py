"""The numba backend: parallel compiled kernels (default on CPU).

Every kernel is lazily compiled with ``cache=True``, so it accepts
read-only, float32 and Fortran-ordered arrays, is compiled once per
signature and then reused from the on-disk cache. No kernel keeps state
between calls. The contract is :mod:`sklearn_covertreex.backends.contract`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numba

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

name = "numba"


@contextmanager
def threads(n_threads: int) -> Iterator[None]:
    """Run the enclosed kernels on ``n_threads`` numba threads (resolved by the caller)."""
    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


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
