"""Exact merges of partial neighbour lists, and self-exclusion: each written once.

Tie rule everywhere: ascending distance, then the smaller id; padding
entries (id -1, distance inf) sort last.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_PAD_KEY = np.iinfo(np.int64).max


def merge_knn(parts: Sequence[tuple[np.ndarray, np.ndarray]],
              k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best (distance, id) pairs of each row among several partial answers.

    Parameters
    ----------
    parts : sequence of (distances, ids)
        Arrays of shape ``(n, k_i)`` each (the same ``n``), e.g. the answers
        of several shards for the same queries; padding is id -1 with
        distance inf. An id should appear in one part only.
    k : int
        Neighbours per row in the result.

    Returns
    -------
    distances : ndarray of shape (n, k), float64, rows ascending
    ids : ndarray of shape (n, k), int64; ties by the smaller id, padded
        with -1 / inf when the parts hold fewer than k pairs.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_covertreex import merge_knn
    >>> a = (np.array([[0.5, 2.0]]), np.array([[7, 3]]))
    >>> b = (np.array([[0.5, 1.0]]), np.array([[4, 9]]))
    >>> merge_knn([a, b], 3)
    (array([[0.5, 0.5, 1. ]]), array([[4, 7, 9]]))
    """
    if not parts:
        raise ValueError("merge_knn needs at least one part")
    n = parts[0][0].shape[0]
    D = np.concatenate([np.asarray(d, np.float64).reshape(n, -1) for d, _ in parts], axis=1)
    ids = np.concatenate([np.asarray(i, np.int64).reshape(n, -1) for _, i in parts], axis=1)
    out_d = np.full((n, k), np.inf)
    out_i = np.full((n, k), -1, np.int64)
    if D.shape[1] == 0:
        return out_d, out_i
    key_ids = np.where(ids < 0, _PAD_KEY, ids)
    order = np.lexsort((key_ids, D), axis=1)[:, :k]
    take = order.shape[1]
    out_d[:, :take] = np.take_along_axis(D, order, 1)
    out_i[:, :take] = np.take_along_axis(ids, order, 1)
    out_i[~np.isfinite(out_d)] = -1
    return out_d, out_i


def drop_self_knn(dist: np.ndarray, ind: np.ndarray,
                  self_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a (k + 1)-NN answer of fitted points, each without its own id.

    Row r queried the point whose id is ``self_ids[r]``; its own entry is
    dropped. Where exact duplicates pushed it out of the k + 1 (all of them
    at distance 0), the last entry is dropped instead, which keeps the
    smaller ids, as the tie rule does.
    """
    n, k1 = ind.shape
    keep = ind != np.asarray(self_ids)[:, None]
    no_self = np.all(keep, axis=1)
    keep[no_self, -1] = False
    return dist[keep].reshape(n, k1 - 1), ind[keep].reshape(n, k1 - 1)


def drop_self_csr(indptr: np.ndarray, dist: np.ndarray, ind: np.ndarray,
                  self_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A radius answer (CSR) of fitted points, each row without its own id."""
    n = indptr.shape[0] - 1
    row = np.repeat(np.arange(n), np.diff(indptr))
    keep = ind != np.asarray(self_ids)[row]
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(row[keep], minlength=n), out=out_ptr[1:])
    return out_ptr, dist[keep], ind[keep]


def place_csr_rows(n_rows: int,
                   parts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One CSR answer from answers of disjoint groups of its rows.

    Parameters
    ----------
    n_rows : int
        Rows of the whole answer.
    parts : sequence of (rows, indptr, dist, ind)
        The CSR answer of the rows ``rows`` of the whole, in that order;
        together the groups cover every row once.

    Returns
    -------
    indptr, dist, ind
        Each row's entries as its group gave them (in their order).
    """
    counts = np.zeros(n_rows, np.int64)
    for rows, ptr, _, _ in parts:
        counts[rows] = np.diff(ptr)
    indptr = np.zeros(n_rows + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    dist = np.empty(indptr[-1])
    ind = np.empty(indptr[-1], np.intp)
    for rows, ptr, d, i in parts:
        # entry t of the group's row a goes to indptr[rows[a]] + t
        target = np.repeat(indptr[rows] - ptr[:-1], np.diff(ptr)) + np.arange(d.size)
        dist[target], ind[target] = d, i
    return indptr, dist, ind
