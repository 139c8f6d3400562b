"""The kernel contract: what every tree-kernel backend provides, and the shared constants.

A tree-kernel backend is a package with one module per phase, named alike
in every backend so each kernel's twin is found by file name:

* ``distance``: the metric seam (``check_rows`` and the distance of two rows);
* ``heaps``: bounded k-best heaps and best-first frontiers;
* ``build``: traversal, parents, radii, point and pair distances;
* ``conflict``: conflict graphs and the maximal independent set;
* ``query``: k-NN and radius search;
* ``construct`` (optional): whole-tree constructions (:class:`OptionalKernels`).

Every kernel that computes distances takes a *kernel metric* first (an
instance of its metric's namedtuple class holding ``params``, see
:mod:`sklearn_covertreex.metrics.base`) and refuses rows whose width is not
``params[0]``. :class:`TreeKernels` lists
the kernels with their full contract; :data:`KERNELS` is derived from it.
The numpy backend takes exactly the numba backend's decisions (ties, exact
powers of two, pruning slack, evaluation order) so both agree bit for bit,
distance evaluations and pruned nodes included.
"""

from __future__ import annotations

import math
from contextlib import AbstractContextManager
from typing import Any, Protocol

import numpy as np

from ..metrics.base import KernelMetric
from ..metrics.euclidean import EuclideanRows

#: Relative slack used when comparing a lower bound with a current k-th
#: distance: pruning only happens when the bound exceeds it by more than the
#: rounding error of the distances involved, so no true neighbour is lost.
PRUNE_RTOL = 1e-12

#: A search that reaches a node with at most this many descendants, stored
#: as one run of nodes (``subtree_end``), evaluates them all in node order
#: instead of expanding them child by child: a contiguous scan costs less
#: than the frontier bookkeeping it replaces (one thread, 16-NN on W1: 0.162
#: -> 0.135 s with 64, 0.140 s with 32, 0.137 s with 128; 8-NN on H3: 0.63 ->
#: 0.53 s; 2026-12-04).
BLOCK_SCAN_NODES = 64

#: Grid cells are clamped to this magnitude so that they fit an int64.
CELL_CLAMP = 4.0e18

#: Relative slack of the grid look-up: covers rounding in the embedding and
#: in the distance test, so a pair the distance test calls conflicting is
#: never missed.
CELL_RTOL = 1e-9


def check_row_width(metric: KernelMetric, width: int) -> None:
    """Raise ``ValueError`` unless rows ``width`` wide are the rows of ``metric``'s parameters.

    ``metric.params[0]`` is the row width: this is what makes every kernel
    refuse rows of another metric or of another tree.
    """
    params = metric.params
    if params.shape[0] < 1 or width != int(params[0]):
        raise ValueError(
            "rows do not have the width the metric's parameters give: "
            "rows of another metric, or parameters of another tree"
        )


def check_euclidean_rows(metric: KernelMetric, width: int, backend: str) -> None:
    """Raise ``ValueError`` unless ``metric`` is Euclidean and rows are ``params[0]`` wide.

    The check of the backends whose tree kernels implement the Euclidean
    rows only (numpy, jax, cupy); ``backend`` names the one asking.
    """
    if not isinstance(metric, EuclideanRows):
        raise ValueError(
            f"the {backend} tree kernels implement the Euclidean metric only, got {metric!r}"
        )
    check_row_width(metric, width)


def ceil_log2(x: float) -> int:
    """Smallest integer t with ``x <= 2**t`` (x > 0 and finite).

    Pure Python on purpose: the numba backend compiles this very function
    (``njit(ceil_log2)``), so there is one definition.
    """
    m, e = math.frexp(x)
    if m == 0.5:
        return e - 1
    return e


def ceil_log2_array(x: np.ndarray) -> np.ndarray:
    """:func:`ceil_log2` of every element of ``x`` (int64)."""
    mant, expo = np.frexp(x)
    return np.where(mant == 0.5, expo - 1, expo).astype(np.int64)


class TreeKernels(Protocol):
    """The kernels of a tree backend (module-level functions of its package).

    Arrays named ``points`` / ``X`` / ``Q`` / ``A`` / ``B`` hold one stored row
    per node or point; ``level``, ``parent``, ``radius`` (exact subtree radii),
    ``parent_dist`` (distance to the parent), ``child_ptr`` / ``children``
    (children CSR, highest level first), ``subtree_end`` (where a node's
    descendants end when they are one run of nodes, else -1; see
    :mod:`sklearn_covertreex.core.blocks`) and ``id_ptr`` / ``ids`` (dataset
    ids CSR) describe the tree; ``root`` is the root node. The query
    kernels take the tree as
    :meth:`~sklearn_covertreex.core.tree.TreeArrays.query_arrays` gives it;
    a backend may ignore ``subtree_end`` (it only saves work).
    """

    name: str

    def threads(self, n_threads: int) -> AbstractContextManager[None]:
        """Run the enclosed kernels on ``n_threads`` threads (resolved once per call by
        :func:`sklearn_covertreex._threads.resolve_n_jobs`)."""
        ...

    def traverse_sparse(self, metric: KernelMetric, points, level, radius, parent_dist,
                        child_ptr, children, root, X) -> tuple[np.ndarray, ...]:
        """For each row of X: insertion level, parent node and duplicate node (-1 if none).

        The parent is the nearest node y with ``d(x, y) <= 2**level(y)``
        (ties: the smaller index) and the level ``ceil_log2(d(x, parent)) - 1``,
        the lowest level that keeps separation. A duplicate gets level 0 and
        parent -1; a point nothing covers gets level -1 and parent -1.
        """
        ...

    def find_parents(self, metric: KernelMetric, points, level, child_ptr, children, root, X,
                     target, eligible) -> np.ndarray:
        """For each row i of X: the nearest eligible node in ``C_target[i]`` within
        ``2**target[i]`` (-1 where there is none); non-eligible nodes still guide
        the descent."""
        ...

    def update_radii(self, metric: KernelMetric, points, parent, radius, nodes) -> None:
        """Raise the subtree radius of every ancestor of ``nodes`` (in place)."""
        ...

    def subtree_radii(self, metric: KernelMetric, points, parent) -> np.ndarray:
        """Exact subtree radius: largest distance from each node to a descendant."""
        ...

    def pair_distances(self, metric: KernelMetric, A, ia, B, ib) -> np.ndarray:
        """Distances between rows ``A[ia[t]]`` and ``B[ib[t]]`` (float64)."""
        ...

    def distances_to_point(self, metric: KernelMetric, A, x) -> np.ndarray:
        """Distances from the row ``x`` to every row of ``A`` (float64)."""
        ...

    def conflict_dense(self, metric: KernelMetric, X, lev) -> tuple[np.ndarray, np.ndarray]:
        """All pairs i < j with ``d(X[i], X[j]) <= 2**min(lev[i], lev[j])``."""
        ...

    def conflict_cells(self, metric: KernelMetric, X, lev, Y,
                       y_rtol) -> tuple[np.ndarray, np.ndarray]:
        """Conflict pairs found through a grid over a 1-Lipschitz embedding ``Y``.

        ``|Y[i, t] - Y[j, t]| <= d(i, j)`` must hold for every column up to a
        rounding error of ``y_rtol * |Y|``; a point of level a looks up the
        points of level >= a in the cells around its own on a grid of side
        ``2**a`` (widened by the slack) and every candidate is decided by the
        exact distance test. Pairs may repeat (hash collisions).
        """
        ...

    def conflict_tree(self, metric: KernelMetric, points, parent, child_ptr, children, root, X,
                      lev, par) -> tuple[np.ndarray, np.ndarray]:
        """Conflict pairs found by searching the tree the batch is about to join
        (batch point y hangs under node ``par[y]``)."""
        ...

    def luby_mis(self, indptr, indices, priority) -> tuple[np.ndarray, int]:
        """Maximal independent set of a CSR graph (Luby's rounds, distinct
        priorities): (mask, number of rounds)."""
        ...

    def knn(self, metric: KernelMetric, points, radius, parent_dist, child_ptr, children,
            subtree_end, id_ptr, ids, root, Q, k) -> tuple[np.ndarray, ...]:
        """Exact k nearest neighbours of every row of Q, best-first.

        Returns (distances (nq, k) float64, ids (nq, k) int64, distance
        evaluations (nq,), pruned nodes (nq,)); rows ascending by (distance,
        id), padded with inf / -1.
        """
        ...

    def radius_count(self, metric: KernelMetric, points, radius, parent_dist, child_ptr,
                     children, subtree_end, id_ptr, ids, root, Q, r) -> np.ndarray:
        """Number of ids within ``r[i]`` (inclusive) of each row ``Q[i]``."""
        ...

    def radius_fill(self, metric: KernelMetric, points, radius, parent_dist, child_ptr,
                    children, subtree_end, id_ptr, ids, root, Q, r,
                    offsets) -> tuple[np.ndarray, ...]:
        """Distances and ids within ``r[i]`` of each ``Q[i]``, written at
        ``offsets[i]:offsets[i + 1]``, each row in ascending (distance, id) order."""
        ...


class OptionalKernels(Protocol):
    """Kernels a tree backend may provide; a strategy that needs one says which
    (:data:`sklearn_covertreex.algo.registries.CONSTRUCTIONS`)."""

    def construct_depth_first(self, metric: KernelMetric, X, order,
                              max_distances: int = -1) -> tuple[Any, ...]:
        """The whole compressed cover tree of the rows ``X``, built depth first.

        ``order`` is a permutation of the rows, ``order[0]`` the root.
        Returns, per row: level, parent row (-1 at the root and for
        duplicates), distance to the parent, exact subtree radius, and the
        row of the node an exact duplicate belongs to (-1 for nodes); then
        the number of distances evaluated. With ``max_distances >= 0`` it
        stops once it has evaluated more (the arrays are then unfinished).
        """
        ...


def _kernel_names(protocol: type) -> tuple[str, ...]:
    return tuple(name for name, value in vars(protocol).items()
                 if callable(value) and not name.startswith("_"))


#: Kernel functions every tree backend provides (derived from :class:`TreeKernels`).
KERNELS: tuple[str, ...] = _kernel_names(TreeKernels)

#: Kernel functions a tree backend may provide (derived from :class:`OptionalKernels`).
OPTIONAL_KERNELS: tuple[str, ...] = _kernel_names(OptionalKernels)


def provides_kernel(backend: object, kernel: str) -> bool:
    """Whether the tree-kernel package ``backend`` provides the kernel named ``kernel``."""
    return callable(getattr(backend, kernel, None))


__all__ = ["BLOCK_SCAN_NODES", "CELL_CLAMP", "CELL_RTOL", "KERNELS", "OPTIONAL_KERNELS",
           "PRUNE_RTOL", "OptionalKernels", "TreeKernels", "ceil_log2", "ceil_log2_array",
           "check_euclidean_rows", "provides_kernel"]
