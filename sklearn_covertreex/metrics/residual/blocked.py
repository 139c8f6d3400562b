"""Exact residual-correlation queries by blocked matrix products.

The query rows and the data rows are cut into tiles; for each tile pair the
inner products ``W_a . W_b`` come from one BLAS matrix product, and a
compiled pass turns them into distances and offers them to per-row
max-heaps of the k best ``(distance, id)`` pairs (ties broken by the smaller
id, as the cover-tree queries do). Every pair is evaluated, so the answers
are exact. All-points queries (``X=None``) evaluate each unordered pair once
and offer it to both rows' heaps; Vecchia queries evaluate each pair once,
for the later row only.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ...backends._numba_kernels import _heap_push, _heap_sort, _less
from ...backends._residual_rows import correlation, rho_to_distance
from .statistics import ResidualModel, ResidualPoints

#: Rows per tile; 1024 x 1024 x m products run near BLAS peak.
TILE = 1024

#: Which pairs a row may take as neighbours: every pair, not the row
#: itself, only rows with a smaller id (Vecchia predecessors).
ALL, NOT_SELF, PREDECESSORS = 0, 1, 2


@njit(cache=True, inline="always")
def _offer(h_d, h_i, s, k, d, c):
    if s == k and not _less(d, c, h_d[0], h_i[0]):
        return s
    return _heap_push(h_d, h_i, s, k, d, c)


@njit(cache=True, inline="always")
def _allowed(mode, r, c):
    return not ((mode == NOT_SELF and c == r) or (mode == PREDECESSORS and c >= r))


@njit(cache=True, parallel=True)
def _fast_tile(G, ca, cb, sa, sb, kind, row_ids, col_ids, hd, hi, size, mode):
    """Turn ``G = W_a W_b^T`` into distances (fast-path kernel) in place.

    With ``mode >= 0`` each distance is also offered to the heap of its row
    in the same pass (``mode`` as in :func:`_push_rows`).
    """
    k = hd.shape[1]
    for i in prange(G.shape[0]):
        r = row_ids[i] if mode >= 0 else 0
        s = size[r] if mode >= 0 else 0
        for j in range(G.shape[1]):
            r2 = 0.0
            for t in range(ca.shape[1]):
                diff = ca[i, t] - cb[j, t]
                r2 += diff * diff
            d = rho_to_distance(sa[i] * sb[j] * correlation(kind, r2) - G[i, j])
            G[i, j] = d
            if mode >= 0 and _allowed(mode, r, col_ids[j]):
                s = _offer(hd[r], hi[r], s, k, d, col_ids[j])
        if mode >= 0:
            size[r] = s


@njit(cache=True, parallel=True)
def _given_tile(G, C):
    """Overwrite ``G = W_a W_b^T`` with ``sqrt(1 - |C - G|)`` (C: scaled kernel tile)."""
    for i in prange(G.shape[0]):
        for j in range(G.shape[1]):
            G[i, j] = rho_to_distance(C[i, j] - G[i, j])


@njit(cache=True, parallel=True)
def _push_rows(D, row_ids, col_ids, hd, hi, size, mode):
    """Offer ``D[a, b]`` (id ``col_ids[b]``) to the heap of row ``row_ids[a]``.

    ``mode``: ALL, NOT_SELF (skip the row's own id) or PREDECESSORS (only
    ids below the row's).
    """
    k = hd.shape[1]
    for a in prange(D.shape[0]):
        r = row_ids[a]
        s = size[r]
        for b in range(D.shape[1]):
            if _allowed(mode, r, col_ids[b]):
                s = _offer(hd[r], hi[r], s, k, D[a, b], col_ids[b])
        size[r] = s


@njit(cache=True, parallel=True)
def _push_cols(D, row_ids, col_ids, hd, hi, size):
    """Offer ``D[a, b]`` (id ``row_ids[a]``) to the heap of column ``col_ids[b]``.

    Columns go in chunks of 16 so that each thread reads ``D`` row by row.
    """
    k = hd.shape[1]
    chunk = 16
    nb = D.shape[1]
    for cc in prange((nb + chunk - 1) // chunk):
        lo, up = cc * chunk, min(nb, cc * chunk + chunk)
        thr = np.empty(up - lo)
        for b in range(lo, up):
            c = col_ids[b]
            thr[b - lo] = hd[c, 0] if size[c] == k else np.inf
        for a in range(D.shape[0]):
            r = row_ids[a]
            for b in range(lo, up):
                d = D[a, b]
                c = col_ids[b]
                if d > thr[b - lo] or r == c:
                    continue
                size[c] = _offer(hd[c], hi[c], size[c], k, d, r)
                if size[c] == k:
                    thr[b - lo] = hd[c, 0]


@njit(cache=True, parallel=True)
def _finish(hd, hi, size):
    for r in prange(hd.shape[0]):
        _heap_sort(hd[r], hi[r], size[r])


class _Heaps:
    """One max-heap of (distance, id) pairs of capacity k per query row."""

    def __init__(self, n: int, k: int) -> None:
        self.d = np.full((n, k), np.inf)
        self.i = np.full((n, k), -1, np.int64)
        self.size = np.zeros(n, np.int64)

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        _finish(self.d, self.i, self.size)
        return self.d, self.i


_NONE = np.empty(0, np.int64)
_NO_HEAPS = _Heaps(0, 1)


def tile_distances(model: ResidualModel, A: ResidualPoints, B: ResidualPoints,
                   row_ids: np.ndarray = _NONE, col_ids: np.ndarray = _NONE,
                   heaps: _Heaps | None = None, mode: int = -1) -> np.ndarray:
    """Distances ``d(A, B)`` of one tile (a new ``(A.n, B.n)`` array).

    With ``heaps``, each distance is also offered to the heap of its row
    (``row_ids``, ``col_ids``: the ids of the tile's rows and columns).
    """
    G = A.W @ B.W.T
    if model.fast is not None:
        h = _NO_HEAPS if heaps is None else heaps
        _fast_tile(G, A.coords, B.coords, A.s, B.s, model.fast.kind, row_ids, col_ids,
                   h.d, h.i, h.size, mode if heaps is not None else -1)
        return G
    _given_tile(G, model.cross_kernel(A, B))
    if heaps is not None:
        _push_rows(G, row_ids, col_ids, heaps.d, heaps.i, heaps.size, mode)
    return G


def _tiles(n: int, tile: int) -> list[slice]:
    return [slice(start, min(n, start + tile)) for start in range(0, n, tile)]


def _ids(block: slice) -> np.ndarray:
    return np.arange(block.start, block.stop, dtype=np.int64)


def knn_blocked(model: ResidualModel, Q: ResidualPoints, P: ResidualPoints, k: int,
                tile: int = TILE) -> tuple[np.ndarray, np.ndarray, int]:
    """k nearest rows of P for every row of Q: (distances, ids, distance evaluations)."""
    heaps = _Heaps(Q.n, k)
    for qb in _tiles(Q.n, tile):
        Qt, qid = Q.rows(qb), _ids(qb)
        for pb in _tiles(P.n, tile):
            tile_distances(model, Qt, P.rows(pb), qid, _ids(pb), heaps, ALL)
    d, i = heaps.result()
    return d, i, Q.n * P.n


def knn_blocked_self(model: ResidualModel, P: ResidualPoints, k: int,
                     tile: int = TILE) -> tuple[np.ndarray, np.ndarray, int]:
    """k nearest other rows of P for every row of P (each pair evaluated once)."""
    heaps = _Heaps(P.n, k)
    blocks = _tiles(P.n, tile)
    for bi, rb in enumerate(blocks):
        R, rid = P.rows(rb), _ids(rb)
        for cb in blocks[bi:]:
            cid = _ids(cb)
            D = tile_distances(model, R, P.rows(cb), rid, cid, heaps, NOT_SELF)
            if cb.start != rb.start:
                _push_cols(D, rid, cid, heaps.d, heaps.i, heaps.size)
    d, i = heaps.result()
    return d, i, P.n * (P.n - 1) // 2


def vecchia_blocked(model: ResidualModel, P: ResidualPoints, k: int,
                    tile: int = TILE) -> tuple[np.ndarray, np.ndarray, int]:
    """For each row i of P, its k nearest rows among rows 0..i-1 (padded -1 / inf)."""
    heaps = _Heaps(P.n, k)
    blocks = _tiles(P.n, tile)
    for bi, rb in enumerate(blocks):
        R, rid = P.rows(rb), _ids(rb)
        for cb in blocks[: bi + 1]:
            mode = PREDECESSORS if cb.start == rb.start else ALL
            tile_distances(model, R, P.rows(cb), rid, _ids(cb), heaps, mode)
    d, i = heaps.result()
    return d, i, P.n * (P.n - 1) // 2


def radius_blocked(model: ResidualModel, Q: ResidualPoints, P: ResidualPoints,
                   radius: np.ndarray, exclude_self: bool = False,
                   tile: int = TILE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of P within ``radius[i]`` of each row of Q, as CSR (indptr, distances, ids).

    Each row's neighbours are sorted by (distance, id). With ``exclude_self``
    (Q is P), row i does not list itself.
    """
    parts_q: list[np.ndarray] = []
    parts_i: list[np.ndarray] = []
    parts_d: list[np.ndarray] = []
    for qb in _tiles(Q.n, tile):
        Qt = Q.rows(qb)
        r = radius[qb][:, None]
        for pb in _tiles(P.n, tile):
            D = tile_distances(model, Qt, P.rows(pb))
            hit = D <= r
            if exclude_self:
                both = np.arange(max(qb.start, pb.start), min(qb.stop, pb.stop))
                hit[both - qb.start, both - pb.start] = False
            a, b = np.nonzero(hit)
            parts_q.append(a + qb.start)
            parts_i.append(b + pb.start)
            parts_d.append(D[a, b])
    q = np.concatenate(parts_q) if parts_q else np.empty(0, np.intp)
    ids = np.concatenate(parts_i).astype(np.intp) if parts_i else np.empty(0, np.intp)
    dist = np.concatenate(parts_d) if parts_d else np.empty(0)
    order = np.lexsort((ids, dist, q))
    indptr = np.zeros(Q.n + 1, np.int64)
    np.cumsum(np.bincount(q, minlength=Q.n), out=indptr[1:])
    return indptr, dist[order], ids[order]
