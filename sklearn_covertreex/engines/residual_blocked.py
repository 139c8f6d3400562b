"""Exact residual-correlation queries by blocked matrix products.

The query rows and the data rows are cut into tiles. For each tile pair the
inner products ``W_a . W_b`` come from one BLAS matrix product; one compiled
pass then forms the squared distances ``1 - |rho|`` (the kernel part is
computed in the same pass on the fast path) and offers them to per-row
max-heaps of the k best ``(value, id)`` pairs, ties broken by the smaller id
as in the cover-tree queries. Every pair is evaluated, so the answers are
exact. All-points queries (``X=None``) evaluate each unordered pair once and
offer it to both rows' heaps; Vecchia queries evaluate each pair once, for
the later row only.

Tiles are shared out among worker threads, each running single-threaded BLAS
and compiled code that releases the GIL, with private heaps merged at the
end: on two cores this is about twice as fast as letting BLAS and the
compiled passes take turns with all cores (their threads contend).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numba import njit
from threadpoolctl import threadpool_limits

from ..backends.numba.heaps import _heap_push, _heap_sort, _less
from ..metrics.residual.correlation import correlation
from ..metrics.residual.statistics import ResidualModel, ResidualPoints

#: Rows per tile; 1024 x 1024 x m products run near BLAS peak on one core.
TILE = 1024

#: Which pairs a row may take as neighbours: every pair, not the row
#: itself, only rows with a smaller id (Vecchia predecessors).
ALL, NOT_SELF, PREDECESSORS = 0, 1, 2

_EMPTY2 = np.empty((0, 0))


@njit(cache=True, nogil=True)
def _tile(G, C, ca, cbT, sa, sb, kind, row_ids, col_ids, hd, hi, size, mode, buf):
    """Turn ``G = W_a W_b^T`` into squared distances ``1 - |rho|`` in place.

    The kernel part is ``C`` when it has rows (any kernel), else
    ``correlation(kind, |ca_i - cb_j|^2)`` (fast path; ``cbT`` is ``cb``
    transposed). With ``mode >= 0`` each value is also offered to the heap
    of its row: ALL, NOT_SELF (skip the row's own id) or PREDECESSORS (only
    ids below the row's).
    """
    k = hd.shape[1]
    nb = G.shape[1]
    given = C.shape[0] > 0
    for i in range(G.shape[0]):
        if given:
            for j in range(nb):
                buf[j] = C[i, j]
        else:
            for j in range(nb):
                buf[j] = 0.0
            for t in range(ca.shape[1]):
                x = ca[i, t]
                col = cbT[t]
                for j in range(nb):
                    diff = x - col[j]
                    buf[j] += diff * diff
            for j in range(nb):
                buf[j] = correlation(kind, buf[j])
        gi = G[i]
        a = sa[i]
        for j in range(nb):
            v = 1.0 - abs(a * sb[j] * buf[j] - gi[j])
            gi[j] = v if v > 0.0 else 0.0
        if mode < 0:
            continue
        r = row_ids[i]
        hdr, hir = hd[r], hi[r]
        s = size[r]
        thr = hdr[0] if s == k else np.inf
        for j in range(nb):
            v = gi[j]
            if v > thr:
                continue
            c = col_ids[j]
            if (mode == NOT_SELF and c == r) or (mode == PREDECESSORS and c >= r):
                continue
            if s == k and not _less(v, c, hdr[0], hir[0]):
                continue
            s = _heap_push(hdr, hir, s, k, v, c)
            if s == k:
                thr = hdr[0]
        size[r] = s


@njit(cache=True, nogil=True)
def _tile_columns(D, row_ids, col_ids, hd, hi, size):
    """Offer ``D[a, b]`` (id ``row_ids[a]``) to the heap of column ``col_ids[b]``.

    Columns go in chunks of 32 so that ``D`` is read row by row.
    """
    k = hd.shape[1]
    nb = D.shape[1]
    chunk = 32
    thr = np.empty(chunk)
    for lo in range(0, nb, chunk):
        up = min(nb, lo + chunk)
        for b in range(lo, up):
            c = col_ids[b]
            thr[b - lo] = hd[c, 0] if size[c] == k else np.inf
        for a in range(D.shape[0]):
            da = D[a]
            r = row_ids[a]
            for b in range(lo, up):
                v = da[b]
                if v > thr[b - lo]:
                    continue
                c = col_ids[b]
                if r == c:
                    continue
                hdc, hic = hd[c], hi[c]
                s = size[c]
                if s == k and not _less(v, r, hdc[0], hic[0]):
                    continue
                s = _heap_push(hdc, hic, s, k, v, r)
                size[c] = s
                if s == k:
                    thr[b - lo] = hdc[0]


@njit(cache=True, nogil=True)
def _merge(hd, hi, size, od, oi, osize):
    """Offer every entry of the heaps (od, oi, osize) to the heaps (hd, hi, size)."""
    k = hd.shape[1]
    for r in range(hd.shape[0]):
        s = size[r]
        for t in range(osize[r]):
            if s == k and not _less(od[r, t], oi[r, t], hd[r, 0], hi[r, 0]):
                continue
            s = _heap_push(hd[r], hi[r], s, k, od[r, t], oi[r, t])
        size[r] = s


@njit(cache=True, nogil=True)
def _finish(hd, hi, size):
    """Sort every heap and turn squared distances into distances."""
    for r in range(hd.shape[0]):
        _heap_sort(hd[r], hi[r], size[r])
        for t in range(size[r]):
            hd[r, t] = math.sqrt(hd[r, t])


class _Heaps:
    """One max-heap of (squared distance, id) pairs of capacity k per query row."""

    def __init__(self, n: int, k: int) -> None:
        self.d = np.full((n, k), np.inf)
        self.i = np.full((n, k), -1, np.int64)
        self.size = np.zeros(n, np.int64)

    def merge(self, other: _Heaps) -> None:
        _merge(self.d, self.i, self.size, other.d, other.i, other.size)


_NO_HEAPS = _Heaps(0, 1)


def tile_sq_distances(model: ResidualModel, A: ResidualPoints, B: ResidualPoints,
                      heaps: _Heaps | None = None, row_ids: np.ndarray | None = None,
                      col_ids: np.ndarray | None = None, mode: int = -1) -> np.ndarray:
    """Squared distances ``1 - |rho(A, B)|`` of one tile (a new ``(A.n, B.n)`` array).

    With ``heaps``, each value is also offered to the heap of its row
    (``row_ids``, ``col_ids``: the ids of the tile's rows and columns).
    """
    G = A.W @ B.W.T
    if model.fast is None:
        C, kind = np.asarray(model.kernel(A.X, B.X), dtype=np.float64), 0
    else:
        C, kind = _EMPTY2, model.fast.kind
    h = _NO_HEAPS if heaps is None else heaps
    none = np.empty(0, np.int64)
    _tile(G, C, A.coords, np.ascontiguousarray(B.coords.T), A.s, B.s, kind,
          none if row_ids is None else row_ids, none if col_ids is None else col_ids,
          h.d, h.i, h.size, mode if heaps is not None else -1, np.empty(B.n))
    return G


def _blocks(n: int, tile: int) -> list[slice]:
    return [slice(start, min(n, start + tile)) for start in range(0, n, tile)]


def _ids(block: slice) -> np.ndarray:
    return np.arange(block.start, block.stop, dtype=np.int64)


def _run(tasks: list[Any], work: Callable[[Any, Any], None], make_state: Callable[[], Any],
         n_workers: int) -> list[Any]:
    """Run ``work(task, state)`` over tasks on workers with one private state each.

    Workers take the next task from one shared iterator (``next`` on a list
    iterator is atomic under the GIL), so a worker the operating system
    slows down takes fewer tasks instead of holding back the others.
    """
    n_workers = max(1, min(n_workers, len(tasks)))
    queue = iter(tasks)

    def worker(_: int) -> Any:
        state = make_state()
        for task in iter(lambda: next(queue, None), None):
            work(task, state)
        return state

    with threadpool_limits(1, user_api="blas"):
        if n_workers == 1:
            return [worker(0)]
        with ThreadPoolExecutor(n_workers) as pool:
            return list(pool.map(worker, range(n_workers)))


def _heap_result(states: list[_Heaps]) -> tuple[np.ndarray, np.ndarray]:
    """Merge the workers' heaps pairwise, in parallel rounds; sort the result."""
    while len(states) > 1:
        pairs = list(zip(states[0::2], states[1::2], strict=False))
        with ThreadPoolExecutor(len(pairs)) as pool:
            list(pool.map(lambda pair: pair[0].merge(pair[1]), pairs))
        states = [a for a, _ in pairs] + ([states[-1]] if len(states) % 2 else [])
    heaps = states[0]
    _finish(heaps.d, heaps.i, heaps.size)
    return heaps.d, heaps.i


def knn_blocked(model: ResidualModel, Q: ResidualPoints, P: ResidualPoints, k: int,
                n_workers: int = 1, tile: int = TILE) -> tuple[np.ndarray, np.ndarray, int]:
    """k nearest rows of P for every row of Q: (distances, ids, distance evaluations)."""
    tasks = [(qb, pb) for qb in _blocks(Q.n, tile) for pb in _blocks(P.n, tile)]

    def work(task: tuple[slice, slice], heaps: _Heaps) -> None:
        qb, pb = task
        tile_sq_distances(model, Q.rows(qb), P.rows(pb), heaps, _ids(qb), _ids(pb), ALL)

    d, i = _heap_result(_run(tasks, work, lambda: _Heaps(Q.n, k), n_workers))
    return d, i, Q.n * P.n


def knn_blocked_self(model: ResidualModel, P: ResidualPoints, k: int, n_workers: int = 1,
                     tile: int = TILE) -> tuple[np.ndarray, np.ndarray, int]:
    """k nearest other rows of P for every row of P (each pair evaluated once)."""
    blocks = _blocks(P.n, tile)
    tasks = [(rb, cb) for b, rb in enumerate(blocks) for cb in blocks[b:]]

    def work(task: tuple[slice, slice], heaps: _Heaps) -> None:
        rb, cb = task
        rid, cid = _ids(rb), _ids(cb)
        D = tile_sq_distances(model, P.rows(rb), P.rows(cb), heaps, rid, cid, NOT_SELF)
        if cb.start != rb.start:
            _tile_columns(D, rid, cid, heaps.d, heaps.i, heaps.size)

    d, i = _heap_result(_run(tasks, work, lambda: _Heaps(P.n, k), n_workers))
    return d, i, P.n * (P.n - 1) // 2


def vecchia_blocked(model: ResidualModel, P: ResidualPoints, k: int, n_workers: int = 1,
                    tile: int = TILE) -> tuple[np.ndarray, np.ndarray, int]:
    """For each row i of P, its k nearest rows among rows 0..i-1 (padded -1 / inf)."""
    blocks = _blocks(P.n, tile)
    tasks = [(rb, cb) for b, rb in enumerate(blocks) for cb in blocks[: b + 1]]

    def work(task: tuple[slice, slice], heaps: _Heaps) -> None:
        rb, cb = task
        mode = PREDECESSORS if cb.start == rb.start else ALL
        tile_sq_distances(model, P.rows(rb), P.rows(cb), heaps, _ids(rb), _ids(cb), mode)

    d, i = _heap_result(_run(tasks, work, lambda: _Heaps(P.n, k), n_workers))
    return d, i, P.n * (P.n - 1) // 2


def csr_from_pairs(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                   n_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR (indptr, distances, ids) from (row, id, distance) pieces; rows by (distance, id)."""
    q = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, np.intp)
    ids = np.concatenate([p[1] for p in parts]).astype(np.intp) if parts else np.empty(0, np.intp)
    dist = np.concatenate([p[2] for p in parts]) if parts else np.empty(0)
    order = np.lexsort((ids, dist, q))
    indptr = np.zeros(n_rows + 1, np.int64)
    np.cumsum(np.bincount(q, minlength=n_rows), out=indptr[1:])
    return indptr, dist[order], ids[order]


def radius_blocked(model: ResidualModel, Q: ResidualPoints, P: ResidualPoints,
                   radius: np.ndarray, exclude_self: bool = False, n_workers: int = 1,
                   tile: int = TILE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of P within ``radius[i]`` of each row of Q, as CSR (indptr, distances, ids).

    Each row's neighbours are sorted by (distance, id). With ``exclude_self``
    (Q is P), row i does not list itself.
    """
    tasks = [(qb, pb) for qb in _blocks(Q.n, tile) for pb in _blocks(P.n, tile)]

    def work(task: tuple[slice, slice], parts: list[tuple[np.ndarray, ...]]) -> None:
        qb, pb = task
        D = tile_sq_distances(model, Q.rows(qb), P.rows(pb))
        hit = D <= radius[qb][:, None] ** 2
        if exclude_self:
            both = np.arange(max(qb.start, pb.start), min(qb.stop, pb.stop))
            hit[both - qb.start, both - pb.start] = False
        a, b = np.nonzero(hit)
        parts.append((a + qb.start, b + pb.start, np.sqrt(D[a, b])))

    parts = [p for state in _run(tasks, work, list, n_workers) for p in state]
    return csr_from_pairs(parts, Q.n)
