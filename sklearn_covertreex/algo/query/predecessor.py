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

#: Rows per block (the in-block pairs cost block^2 / 2 evaluations each).
BLOCK = 512


def predecessor_knn(
    ctx: Context, rows: np.ndarray, k: int, metric_name: str, block: int = BLOCK
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
    metric_name : str
        Metric name recorded in the prefix trees.

    Returns
    -------
    distances : ndarray (n, k), ids : ndarray (n, k) int64, evaluations : int
    """
    n = rows.shape[0]
    out_d = np.full((n, k), np.inf)
    out_i = np.full((n, k), -1, np.int64)
    tree: TreeArrays = empty_tree(rows.shape[1:], metric_name)
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
        with ctx.backend.threads(ctx.runtime.n_jobs):
            dab = np.asarray(ctx.backend.pair_distances(B, a, B, b), np.float64)
        evaluations += a.size
        inner_d = np.full((hi - lo, hi - lo), np.inf)
        inner_i = np.full((hi - lo, hi - lo), -1, np.int64)
        inner_d[a, b] = dab
        inner_i[a, b] = b + lo
        cand_d.append(inner_d)
        cand_i.append(inner_i)
        D = np.concatenate(cand_d, axis=1)
        ids = np.concatenate(cand_i, axis=1)
        # missing candidates (-1) sort last; ties by the smaller id
        key_ids = np.where(ids < 0, np.iinfo(np.int64).max, ids)
        order = np.lexsort((key_ids, D), axis=1)[:, :k]
        take = min(k, order.shape[1])
        out_d[lo:hi, :take] = np.take_along_axis(D, order, 1)
        out_i[lo:hi, :take] = np.take_along_axis(ids, order, 1)
        tree = insert_points(ctx, tree, B)  # ids lo .. hi-1
    out_i[~np.isfinite(out_d)] = -1
    return out_d, out_i, evaluations
