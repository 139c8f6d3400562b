"""Read-only view of the arrays a traversal kernel needs."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np


@dataclass(frozen=True)
class TreeView:
    """Points, levels and child CSR of a (possibly unfinished) tree.

    Attributes
    ----------
    points : ndarray (n_nodes, d)
    level : ndarray (n_nodes,) int64
    radius : ndarray (n_nodes,) float64, exact subtree radii
    parent_dist : ndarray (n_nodes,) float64, distance to the parent (0 at the root)
    child_ptr, children : CSR of children, sorted by level (highest first)
    root : int
    """

    points: np.ndarray
    level: np.ndarray
    radius: np.ndarray
    parent_dist: np.ndarray
    child_ptr: np.ndarray
    children: np.ndarray
    root: int


@dataclass(frozen=True)
class Context:
    """What every strategy receives: the backend module, the metric and the runtime."""

    backend: ModuleType
    metric: object
    runtime: object


def child_csr(parent: np.ndarray, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Children CSR from a parent array, children sorted by level, highest first."""
    n = parent.shape[0]
    nonroot = np.flatnonzero(parent >= 0)
    order = np.lexsort((nonroot, -level[nonroot], parent[nonroot]))
    children = nonroot[order].astype(np.int64)
    counts = np.bincount(parent[nonroot], minlength=n)
    child_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=child_ptr[1:])
    return child_ptr, children
