"""Subtree blocks: which nodes' descendants are one contiguous run of node positions.

Finished trees number their nodes in *block order* (see
:func:`sklearn_covertreex.algo.batch.builder.block_order`): each node's
children are consecutive, and all descendants of a node follow its first
child without a gap. A query that reaches a node whose subtree is small can
then read all of its descendants as one run of rows instead of expanding
them one by one.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def subtree_ends(parent: np.ndarray, child_ptr: np.ndarray, children: np.ndarray,
                 root: int) -> np.ndarray:
    """Where each node's descendants end, for a tree numbered in block order.

    Parameters
    ----------
    parent : ndarray (n_nodes,)
        Parent of each node, -1 at the root.
    child_ptr, children : ndarray
        The children CSR.
    root : int
        The root node.

    Returns
    -------
    ndarray (n_nodes,), the dtype of ``parent``
        If the nodes are numbered in block order (every finished tree), the
        end of each internal node's run: the descendants of ``v`` are the
        nodes ``children[child_ptr[v]] .. end[v] - 1``; -1 at the leaves.
        For a tree numbered otherwise (a breadth-first one loaded from an
        older pickle) -1 everywhere: no runs are claimed.
    """
    return _subtree_ends(np.ascontiguousarray(parent), np.ascontiguousarray(child_ptr),
                         np.ascontiguousarray(children), int(root))


@njit(cache=True)
def _in_block_order(child_ptr, children, root):
    """Whether the block-order walk from ``root`` meets the nodes as 0, 1, 2, ...

    The walk of :func:`~sklearn_covertreex.algo.batch.builder.block_order`,
    comparing instead of writing; its stack holds placed nodes whose
    children are still to come (grown by doubling: no array of the tree's
    size).
    """
    if root != 0:
        return False
    stack = np.empty(64, children.dtype)
    stack[0] = root
    top = 1
    placed = 1
    while top > 0:
        top -= 1
        v = stack[top]
        lo, hi = child_ptr[v], child_ptr[v + 1]
        for t in range(lo, hi):
            if children[t] != placed:
                return False
            placed += 1
        if top + hi - lo > stack.shape[0]:
            bigger = np.empty(2 * (top + hi - lo), children.dtype)
            bigger[:top] = stack[:top]
            stack = bigger
        for t in range(hi - 1, lo - 1, -1):  # first child on top
            c = children[t]
            if child_ptr[c + 1] > child_ptr[c]:
                stack[top] = c
                top += 1
    return placed == child_ptr.shape[0] - 1


@njit(cache=True)
def _subtree_ends(parent, child_ptr, children, root):
    n = parent.shape[0]
    end = np.full(n, -1, parent.dtype)
    if not _in_block_order(child_ptr, children, root):
        return end
    # in block order a node's descendants are the run from its first child
    # to its last descendant: children come after parents, so one backward
    # pass carries every subtree's last position up to its ancestors
    for v in range(n - 1, 0, -1):
        p = parent[v]
        end[p] = max(end[p], v + 1, end[v])
    return end
