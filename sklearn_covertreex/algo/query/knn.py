"""Exact k-nearest-neighbour search over a tree, parallel over queries."""

from __future__ import annotations

import numpy as np

from ...core.tree import TreeArrays
from ..order.hilbert import hilbert_permutation
from ..view import Context

#: Below this many queries, answering them in input order is as fast. Each
#: search is seeded with the previous query's neighbours, so the order pays
#: early: on W1's tree (one thread, k = 16, random queries) 1024 queries took
#: 25.5 ms in Hilbert order (sort included) against 34.7 ms as given, 256
#: took 10.0 against 10.9 ms, 64 took 3.3 against 2.4 ms (2026-12-04).
LOCALITY_MIN_QUERIES = 256


def locality_order(ctx: Context, Q: np.ndarray) -> np.ndarray | None:
    """A Hilbert-curve order of many queries with coordinates, else None.

    Neighbouring queries then walk the same part of the tree one after the
    other (memory locality only: each query's answer is independent of it).
    """
    if Q.shape[0] < LOCALITY_MIN_QUERIES or not getattr(ctx.metric, "has_coordinates", False):
        return None
    return hilbert_permutation(Q)


def knn_query(
    ctx: Context, tree: TreeArrays, Q: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The k nearest dataset ids of every row of ``Q``.

    Returns
    -------
    distances : ndarray (n_queries, k) float64, rows ascending
    ids : ndarray (n_queries, k) int64 (ties broken by the smaller id)
    evaluations : ndarray (n_queries,) int64, distance evaluations per query
    pruned : ndarray (n_queries,) int64, nodes whose subtree was discarded
        unexpanded, per query
    """
    order = locality_order(ctx, Q)
    if order is not None:
        Q = np.ascontiguousarray(Q[order])
    return _knn_in_chunks(ctx, tree, Q, k, order)


def _knn_in_chunks(
    ctx: Context, tree: TreeArrays, Q: np.ndarray, k: int, order: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The search of :func:`knn_query`, a chunk of ``Q`` at a time.

    Each chunk's answers go straight to their rows of the outputs (rows
    ``order[lo:hi]`` when ``Q`` is the queries permuted by ``order``), so
    the peak holds the outputs and one chunk's answers.
    """
    nq = Q.shape[0]
    out_d = np.empty((nq, k))
    out_i = np.empty((nq, k), np.int64)
    evaluations = np.empty(nq, np.int64)
    pruned = np.empty(nq, np.int64)
    chunk = ctx.runtime.query_chunk_size
    with ctx.backend.threads(ctx.n_threads):
        for lo in range(0, nq, chunk):
            part = ctx.backend.knn(ctx.kernel_metric, *tree.query_arrays(), Q[lo : lo + chunk], k)
            rows = slice(lo, lo + chunk) if order is None else order[lo : lo + chunk]
            for out, answer in zip((out_d, out_i, evaluations, pruned), part, strict=True):
                out[rows] = np.asarray(answer)
    return out_d, out_i, evaluations, pruned
