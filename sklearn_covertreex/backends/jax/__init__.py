"""The jax backend: jitted tree kernels for the Euclidean-row metrics (CPU, GPU, TPU).

Every kernel has the signature and the answers of its namesake in the numba
and numpy backends (same file names, same function names). What runs
where:

* **jax** (jitted, shapes bucketed to powers of two, float64 in a scoped
  ``jax.enable_x64``): the queries ``knn``, ``radius_count``,
  ``radius_fill`` and the traversal ``traverse_sparse`` (vmapped per-point
  searches with fixed-capacity frontiers that detect overflow and retry
  with doubled capacities); ``conflict_dense`` and ``luby_mis`` (whole-batch
  array steps); and every distance of ``pair_distances``,
  ``distances_to_point``, ``update_radii``, ``subtree_radii``,
  ``conflict_cells`` (hashed cells looked up on the host), ``conflict_tree``
  and ``find_parents`` (descents of flat (point, node) pairs), one jitted
  distance call per step;
* **numpy on the host**: the integer bookkeeping around the jax calls (CSR
  gathers, cursors, ``np.maximum.at`` of radii and per-point levels, pair
  lists). No kernel runs the numpy reference any more.

The orchestration (:mod:`sklearn_covertreex.algo`) is shared by every
backend and runs on the host; the kernels take host arrays and return host
arrays. The contract is :mod:`sklearn_covertreex.backends.contract`.
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

name = "jax"


@contextmanager
def threads(n_threads: int) -> Iterator[None]:
    """Do nothing: XLA picks its own threads (its device decides)."""
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
