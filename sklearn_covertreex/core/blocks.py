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


def subtree_ends(parent: np.ndarray, child_ptr: np.ndarray, children: np.ndarray) -> np.ndarray:
    """Where each node's descendants end, for nodes whose descendants are one run.

    Parameters
    ----------
    parent : ndarray (n_nodes,)
        Parent of each node, -1 at the root.
    child_ptr, children : ndarray
        The children CSR.

    Returns
    -------
    ndarray (n_nodes,), the dtype of ``parent``
        ``end`` where the descendants of ``v`` are exactly the nodes
        ``children[child_ptr[v]] .. end - 1``; -1 for leaves and for nodes
        whose descendants are not such a run (any node of a tree in which
        some child precedes its parent: every finished tree has parents first).
    """
    return _subtree_ends(np.ascontiguousarray(parent), np.ascontiguousarray(child_ptr),
                         np.ascontiguousarray(children))


@njit(cache=True)
def _subtree_ends(parent, child_ptr, children):
    n = parent.shape[0]
    end = np.full(n, -1, parent.dtype)
    for v in range(n):
        if parent[v] >= v:  # a child before its parent: no runs are claimed
            return end
    lo = np.full(n, n, parent.dtype)  # smallest, largest descendant and subtree size
    hi = np.full(n, -1, parent.dtype)
    size = np.ones(n, parent.dtype)
    for v in range(n - 1, 0, -1):  # children after parents: every subtree is done first
        p = parent[v]
        if p < 0:
            continue
        size[p] += size[v]
        lo[p] = min(lo[p], v, lo[v])
        hi[p] = max(hi[p], v, hi[v])
    for v in range(n):
        # distinct positions lo..hi, as many as the descendants: they are all of them
        if size[v] > 1 and hi[v] - lo[v] + 1 == size[v] - 1 and lo[v] == children[child_ptr[v]]:
            end[v] = hi[v] + 1
    return end
