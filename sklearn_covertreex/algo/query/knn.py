"""Exact k-nearest-neighbour search over a tree, parallel over queries."""

from __future__ import annotations

import numpy as np

from ...core.tree import TreeArrays
from ..order import hilbert_order
from ..view import Context

#: Below this many queries, answering them in input order is as fast.
LOCALITY_MIN_QUERIES = 2048


def locality_order(ctx: Context, Q: np.ndarray) -> np.ndarray | None:
    """A Hilbert-curve order of many queries with coordinates, else None.

    Neighbouring queries then walk the same part of the tree one after the
    other (memory locality only: each query's answer is independent of it).
    """
    if Q.shape[0] < LOCALITY_MIN_QUERIES or not getattr(ctx.metric, "has_coordinates", False):
        return None
    return hilbert_order(Q, None, ctx.metric)


def knn_query(
    ctx: Context, tree: TreeArrays, Q: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The k nearest dataset ids of every row of ``Q``.

    Returns
    -------
    distances : ndarray (n_queries, k) float64, rows ascending
    ids : ndarray (n_queries, k) int64 (ties broken by the smaller id)
    evaluations : ndarray (n_queries,) int64, distance evaluations per query
    """
    order = locality_order(ctx, Q)
    if order is None:
        return _knn_in_chunks(ctx, tree, Q, k)
    d, i, e = _knn_in_chunks(ctx, tree, np.ascontiguousarray(Q[order]), k)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return d[inverse], i[inverse], e[inverse]


def _knn_in_chunks(
    ctx: Context, tree: TreeArrays, Q: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    chunk = ctx.runtime.query_chunk_size
    parts_d, parts_i, parts_e = [], [], []
    with ctx.backend.threads(ctx.runtime.n_jobs):
        for lo in range(0, Q.shape[0], chunk):
            d, i, e = ctx.backend.knn(
                tree.points, tree.radius, tree.parent_dist, tree.child_ptr, tree.children,
                tree.id_ptr, tree.ids, tree.root, Q[lo : lo + chunk], k,
            )
            parts_d.append(d)
            parts_i.append(i)
            parts_e.append(e)
    if not parts_d:
        return np.empty((0, k)), np.empty((0, k), np.int64), np.empty(0, np.int64)
    return (
        np.concatenate(parts_d).astype(np.float64, copy=False),
        np.concatenate(parts_i).astype(np.int64, copy=False),
        np.concatenate(parts_e),
    )
