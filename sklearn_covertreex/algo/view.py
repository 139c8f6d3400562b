"""What every strategy receives: the :class:`Context`, and a :class:`TreeView` of the tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from ..metrics.base import KernelMetric, Metric

if TYPE_CHECKING:
    from ..backends.contract import TreeKernels
    from ..runtime import Runtime


@dataclass(frozen=True)
class TreeView:
    """Points, levels, parents and child CSR of a (possibly unfinished) tree.

    Attributes
    ----------
    points : ndarray (n_nodes, row width)
    level : ndarray (n_nodes,) int64
    parent : ndarray (n_nodes,) int64, -1 at the root
    radius : ndarray (n_nodes,) float64, exact subtree radii
    parent_dist : ndarray (n_nodes,) float64, distance to the parent (0 at the root)
    child_ptr, children : CSR of children, sorted by level (highest first)
    root : int
    """

    points: np.ndarray
    level: np.ndarray
    parent: np.ndarray
    radius: np.ndarray
    parent_dist: np.ndarray
    child_ptr: np.ndarray
    children: np.ndarray
    root: int


@dataclass(frozen=True)
class Context:
    """The tree kernels, the metric with its parameters, the runtime and the thread count.

    Attributes
    ----------
    backend : TreeKernels
        The tree-kernel package of the runtime's backend.
    metric : Metric
        The metric of the tree's rows.
    params : tuple of float
        The metric's parameter vector for these rows (``params[0]``: row width).
    runtime : Runtime
        Strategy choices and seed.
    n_threads : int
        Threads for the kernels (``runtime.n_jobs`` resolved once, at the call).
    kernel_metric : namedtuple
        ``metric.kernel(params)``, what the kernels take (derived).
    """

    backend: TreeKernels
    metric: Metric
    params: tuple[float, ...]
    runtime: Runtime
    n_threads: int
    kernel_metric: KernelMetric = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kernel_metric", self.metric.kernel(self.params))


def child_csr(parent: np.ndarray, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Children CSR from a parent array, children sorted by level, highest first.

    Ties (same parent and level) keep node order. Two stable counting sorts
    (by level, then by parent), linear in the nodes: on a million nodes
    with random parents they took 0.055 s where one ``argsort`` of a
    combined key took 0.110 s (2026-12-04). The CSR arrays have the
    dtype of ``parent`` (int32 or int64).
    """
    return _child_csr(np.ascontiguousarray(parent), np.ascontiguousarray(level))


@njit(cache=True)
def child_offsets(parent):
    """``child_ptr`` of a parent array, in its dtype: children per node, summed."""
    n = parent.shape[0]
    child_ptr = np.zeros(n + 1, parent.dtype)
    for v in range(n):
        if parent[v] >= 0:
            child_ptr[parent[v] + 1] += 1
    for t in range(1, n + 1):
        child_ptr[t] += child_ptr[t - 1]
    return child_ptr


@njit(cache=True)
def _child_csr(parent, level):
    n = parent.shape[0]
    top = np.iinfo(np.int64).min
    bottom = np.iinfo(np.int64).max
    m = 0
    for v in range(n):
        if parent[v] >= 0:
            top = max(top, level[v])
            bottom = min(bottom, level[v])
            m += 1
    child_ptr = child_offsets(parent)
    children = np.empty(m, parent.dtype)
    if m == 0:
        return child_ptr, children
    # levels span a few thousand at most (float64 exponents)
    starts = np.zeros(top - bottom + 2, np.int64)
    for v in range(n):
        if parent[v] >= 0:
            starts[top - level[v] + 1] += 1
    for t in range(1, starts.shape[0]):
        starts[t] += starts[t - 1]
    by_level = np.empty(m, parent.dtype)  # non-root nodes, level descending, stable
    for v in range(n):
        if parent[v] >= 0:
            slot = top - level[v]
            by_level[starts[slot]] = v
            starts[slot] += 1
    fill = child_ptr[:n].copy()
    for v in by_level:  # then by parent, stable
        children[fill[parent[v]]] = v
        fill[parent[v]] += 1
    return child_ptr, children
