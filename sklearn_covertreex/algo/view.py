"""What every strategy receives: the :class:`Context`, and a :class:`TreeView` of the tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

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
    """Children CSR from a parent array, children sorted by level, highest first."""
    n = parent.shape[0]
    nonroot = np.flatnonzero(parent >= 0)
    par = parent[nonroot].astype(np.int64)
    depth = level[nonroot].astype(np.int64)
    if nonroot.size:
        # one int64 key (parent, then level descending); the stable sort keeps
        # node order among equal keys. Levels span a few thousand at most
        # (float64 exponents), so parent * span stays far below 2**63.
        top = int(depth.max())
        key = par * (top - int(depth.min()) + 1) + (top - depth)
        order = np.argsort(key, kind="stable")
    else:
        order = np.empty(0, np.int64)
    children = nonroot[order].astype(np.int64)
    counts = np.bincount(parent[nonroot], minlength=n)
    child_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=child_ptr[1:])
    return child_ptr, children
