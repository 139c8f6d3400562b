"""Exact radius search over a tree (boundary inclusive), parallel over queries."""

from __future__ import annotations

import numpy as np

from ...core.tree import TreeArrays
from ..view import Context


def radius_query(
    ctx: Context, tree: TreeArrays, Q: np.ndarray, r: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every dataset id within ``r[i]`` of ``Q[i]``, as CSR.

    Returns
    -------
    indptr : ndarray (n_queries + 1,) int64
    distances : ndarray (indptr[-1],) float64, ascending within each row
    ids : ndarray (indptr[-1],) int64 (ties by the smaller id)
    """
    b = ctx.backend
    args = tree.query_arrays()
    with b.threads(ctx.n_threads):
        counts = np.asarray(b.radius_count(ctx.kernel_metric, *args, Q, r), dtype=np.int64)
        indptr = np.zeros(Q.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        dist, ids = b.radius_fill(ctx.kernel_metric, *args, Q, r, indptr)
    return indptr, np.asarray(dist, np.float64), np.asarray(ids, np.int64)
