"""What runs on a worker: one shard of the reference set and its exact answers.

A :class:`Shard` is a fitted :class:`~sklearn_covertreex.index.Index` (a
:class:`~sklearn_covertreex.CoverTree` or a residual
:class:`~sklearn_covertreex.engines.residual.ResidualIndex`) over the rows
``offset .. offset + n - 1`` of the global data, with local ids ``0 .. n - 1``.
Every answer leaves here with **global** ids (local id + ``offset``; the
padding id -1 stays -1), so shard answers merge with
:func:`~sklearn_covertreex.merge_knn` and ties keep the global rule
(distance, then the smaller global id). The tasks are plain functions of
numpy arrays and indexes; the only dask code here tells dask's ``sizeof``
how large a shard is (:attr:`Shard.nbytes`), so that the scheduler moves
query blocks to shards and never a shard to a query (it would otherwise
count a shard as a few bytes, and copy it to idle workers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..algo.query import drop_self_csr, drop_self_knn, merge_knn
from ..index import CsrResult, Index, KnnResult


@dataclass(frozen=True)
class Shard:
    """One shard: a fitted index and the global id of its first row.

    Attributes
    ----------
    index : Index
        The shard's index over its rows (local ids ``0 .. n - 1``).
    offset : int
        Global id of local row 0.
    n : int
        Number of rows.
    rows_of : callable
        ``rows_of(index)``: the shard's rows (float64, local id order), the
        query block of the answers on fitted rows (read from the index, not
        stored twice).
    n_jobs : int or None
        Kernel threads of this shard's queries (None: the worker's threads).
    nbytes : int
        Bytes of the arrays the index holds (what moving the shard would cost).
    kept_rows : ndarray or None
        The partition's rows, kept only where the index stores transformed
        rows (metrics such as cosine or haversine search rows of their own),
        which cannot be turned back into the user's rows exactly.
    """

    index: Index
    offset: int
    n: int
    rows_of: Callable[[Any], np.ndarray]
    n_jobs: int | None = None
    nbytes: int = 0
    kept_rows: np.ndarray | None = None

    def rows(self) -> np.ndarray:
        """The shard's rows as the user gave them (float64, local id order)."""
        if self.kept_rows is not None:
            return self.kept_rows
        return self.rows_of(self.index)

    @property
    def global_ids(self) -> np.ndarray:
        """Global ids of the rows, ascending."""
        return np.arange(self.offset, self.offset + self.n, dtype=np.int64)

    def _index(self) -> Index:
        threads = self.n_jobs if self.n_jobs is not None else worker_threads()
        runtime = getattr(self.index, "runtime", None)
        if runtime is None:
            return self.index
        return self.index.with_runtime(runtime.replace(n_jobs=threads))

    def _globalise(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        return np.where(ids >= 0, ids + self.offset, -1)

    def knn(self, Q: np.ndarray, k: int) -> KnnResult:
        """The ``min(k, n)`` nearest rows of the shard to each row of ``Q`` (global ids)."""
        Q = np.ascontiguousarray(Q, dtype=np.float64)
        d, i = self._index().knn(Q, min(k, self.n))
        return np.asarray(d, np.float64), self._globalise(i)

    def radius(self, Q: np.ndarray, r: float) -> CsrResult:
        """Rows within ``r`` (inclusive) of each row of ``Q``, CSR with global ids."""
        Q = np.ascontiguousarray(Q, dtype=np.float64)
        indptr, d, i = self._index().radius(Q, r)
        return np.asarray(indptr, np.int64), np.asarray(d, np.float64), self._globalise(i)

    def vecchia(self, k: int) -> KnnResult:
        """Each row's k nearest earlier rows of this shard (global ids, -1 / inf padded)."""
        d, i = self._index().vecchia(k)
        return np.asarray(d, np.float64), self._globalise(i)


def worker_threads() -> int:
    """Threads of the dask worker running this task (1 outside a worker)."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return 1
    state = getattr(worker, "state", worker)
    return max(1, int(getattr(state, "nthreads", 1)))


# --------------------------------------------------------------------- tasks
def build_shard(block: Any, offset: int, build: Callable[[np.ndarray, int], Index],
                rows_of: Callable[[Any], np.ndarray], n_jobs: int | None) -> Shard:
    """Build one shard on the worker holding ``block`` (its partition of the data).

    ``build(rows, threads)`` returns the fitted index (local ids) of the
    validated float64 rows; ``threads`` is ``n_jobs``, or the worker's
    thread count when None.
    """
    rows = np.ascontiguousarray(np.asarray(block), dtype=np.float64)
    if rows.ndim != 2:
        raise ValueError(f"a shard's partition must be 2-D, got shape {rows.shape}")
    if not np.all(np.isfinite(rows)):
        raise ValueError("Input X contains NaN or infinity.")
    threads = n_jobs if n_jobs is not None else worker_threads()
    index = build(rows, threads)
    stored = rows_of(index)
    kept = None if stored.shape == rows.shape and np.array_equal(stored, rows) else rows
    nbytes = array_bytes(index) + (0 if kept is None else int(kept.nbytes))
    return Shard(index, int(offset), rows.shape[0], rows_of, n_jobs, nbytes, kept)


def array_bytes(obj: Any, _seen: set[int] | None = None, _depth: int = 0) -> int:
    """Bytes of the numpy arrays reachable from ``obj`` through its attributes."""
    seen = set() if _seen is None else _seen
    if id(obj) in seen or _depth > 6:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if isinstance(obj, dict):
        children: Any = obj.values()
    elif isinstance(obj, (list, tuple)):
        children = obj
    elif hasattr(obj, "__dict__"):
        children = vars(obj).values()
    else:
        return 0
    return sum(array_bytes(c, seen, _depth + 1) for c in children)


def shard_rows(shard: Shard) -> np.ndarray:
    """The shard's rows (the query block of the answers on fitted rows)."""
    return shard.rows()


def shard_knn(shard: Shard, Q: Any, k: int) -> KnnResult:
    """:meth:`Shard.knn` as a task."""
    return shard.knn(np.asarray(Q), k)


def shard_radius(shard: Shard, Q: Any, r: float) -> CsrResult:
    """:meth:`Shard.radius` as a task."""
    return shard.radius(np.asarray(Q), r)


def shard_vecchia(shard: Shard, k: int) -> KnnResult:
    """:meth:`Shard.vecchia` as a task."""
    return shard.vecchia(k)


def merge_knn_pair(a: KnnResult, b: KnnResult, k: int) -> KnnResult:
    """Exact merge of two partial k-NN answers of the same queries (ties: smaller id)."""
    return merge_knn([a, b], k)


def merge_csr_pair(a: CsrResult, b: CsrResult) -> CsrResult:
    """Exact merge of two radius answers (CSR) of the same queries.

    Rows are sorted by distance, then id, as the single-machine
    :meth:`~sklearn_covertreex.CoverTree.radius` sorts them.
    """
    ptr_a, d_a, i_a = a
    ptr_b, d_b, i_b = b
    n = ptr_a.shape[0] - 1
    row = np.concatenate([np.repeat(np.arange(n), np.diff(ptr_a)),
                          np.repeat(np.arange(n), np.diff(ptr_b))])
    dist = np.concatenate([d_a, d_b])
    ids = np.concatenate([i_a, i_b])
    order = np.lexsort((ids, dist, row))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n), out=indptr[1:])
    return indptr, dist[order], ids[order]


def drop_self_knn_task(answer: KnnResult, offset: int) -> KnnResult:
    """A (k + 1)-NN answer of a shard's own rows, without each row's own global id."""
    d, i = answer
    return drop_self_knn(d, i, np.arange(offset, offset + d.shape[0], dtype=np.int64))


def drop_self_csr_task(answer: CsrResult, offset: int) -> CsrResult:
    """A radius answer of a shard's own rows, without each row's own global id."""
    indptr, d, i = answer
    n = indptr.shape[0] - 1
    return drop_self_csr(indptr, d, i, np.arange(offset, offset + n, dtype=np.int64))


def pick(pair: tuple[Any, ...], item: int) -> Any:
    """``pair[item]`` as a task (the distances or the ids of an answer)."""
    return pair[item]


def peak_rss_mib() -> float:
    """This process's peak resident memory, MiB (``ru_maxrss``; run on a worker)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _register_sizeof() -> None:
    try:
        from dask.sizeof import sizeof
    except ImportError:  # pragma: no cover - the dask extra is missing
        return
    sizeof.register(Shard)(lambda shard: max(int(shard.nbytes), 1))


_register_sizeof()
