"""Predecessor-constrained k-NN (Vecchia conditioning sets) over prefix trees.

For rows ``x_0, x_1, ...`` in a given order, row i's neighbours are the k
nearest among rows ``0 .. i-1``. The rows are processed in blocks: the
persistent tree of every earlier block answers a block's queries, pairs
inside the block are evaluated directly, and the block is then inserted
(which returns a new tree: the prefix trees are never rebuilt).
"""

from __future__ import annotations

import numpy as np

from ...core.tree import TreeArrays
from ..batch import insert_points
from ..batch.builder import empty_tree
from ..view import Context
from .knn import knn_query
from .merge import merge_knn

#: Rows per block (the in-block pairs cost block^2 / 2 evaluations each).
BLOCK = 512


def predecessor_knn(
    ctx: Context, rows: np.ndarray, k: int, block: int = BLOCK
) -> tuple[np.ndarray, np.ndarray, int]:
    """For each row i, its k nearest rows among rows 0..i-1.

    Parameters
    ----------
    ctx : Context
        Backend, metric and runtime.
    rows : ndarray
        Stored-point rows in their order (Euclidean points or packed rows).
    k : int
        Neighbours per row; rows with fewer predecessors are padded with
        id -1 and distance inf.

    Returns
    -------
    distances : ndarray (n, k), ids : ndarray (n, k) int64, evaluations : int
    """
    n = rows.shape[0]
    out_d = np.full((n, k), np.inf)
    out_i = np.full((n, k), -1, np.int64)
    tree: TreeArrays = empty_tree(ctx.metric.name, ctx.params)
    evaluations = 0
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        B = np.ascontiguousarray(rows[lo:hi])
        cand_d = [np.full((hi - lo, 0), np.inf)]
        cand_i = [np.empty((hi - lo, 0), np.int64)]
        if lo:
            d, i, e, _ = knn_query(ctx, tree, B, min(k, lo))
            cand_d.append(d)
            cand_i.append(i)
            evaluations += int(e.sum())
        # pairs inside the block: (a, b) with b < a
        a, b = np.tril_indices(hi - lo, -1)
        with ctx.backend.threads(ctx.n_threads):
            dab = np.asarray(ctx.backend.pair_distances(ctx.kernel_metric, B, a, B, b), np.float64)
        evaluations += a.size
        inner_d = np.full((hi - lo, hi - lo), np.inf)
        inner_i = np.full((hi - lo, hi - lo), -1, np.int64)
        inner_d[a, b] = dab
        inner_i[a, b] = b + lo
        cand_d.append(inner_d)
        cand_i.append(inner_i)
        out_d[lo:hi], out_i[lo:hi] = merge_knn(list(zip(cand_d, cand_i, strict=True)), k)
        tree = insert_points(ctx, tree, B)  # ids lo .. hi-1
    return out_d, out_i, evaluations
