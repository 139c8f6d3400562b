"""The numba backend: compiled kernels, run in parallel on Python threads (default on CPU).

Every kernel is lazily compiled with ``cache=True``, so it accepts
read-only, float32 and Fortran-ordered arrays, is compiled once per
signature and then reused from the on-disk cache. No kernel keeps state
between calls. Parallel kernels release the GIL and run in chunks on
threads of :mod:`sklearn_covertreex._parallel` (not numba's OpenMP layer:
see there why). The contract is :mod:`sklearn_covertreex.backends.contract`.
"""

from __future__ import annotations

from ..._parallel import threads
from .build import (
    distances_to_point,
    find_parents,
    pair_distances,
    subtree_radii,
    traverse_sparse,
    update_radii,
)
from .conflict import conflict_cells, conflict_dense, conflict_tree, luby_mis
from .construct import construct_depth_first
from .query import knn, radius_count, radius_fill

name = "numba"


__all__ = [
    "conflict_cells",
    "conflict_dense",
    "conflict_tree",
    "construct_depth_first",
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
