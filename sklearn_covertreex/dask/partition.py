"""Row partitions of the input: a dask array, a dask dataframe or an in-memory array.

Everything becomes a dask array chunked along rows only (one column
chunk). Its row chunks are the shards; shard ``j`` holds the global ids
``offsets[j] .. offsets[j] + sizes[j] - 1``. An in-memory array is wrapped
with :func:`dask.array.from_array`, so its pieces are literals of the task
graph (:func:`literal_blocks`): a worker lost later can rebuild its shard
from them (they are never ``scatter``-ed, which would make them
unrecoverable).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import dask
import dask.array as da
import numpy as np
from dask import delayed


@dataclass(frozen=True)
class Partitions:
    """A dask array chunked along rows, and where each chunk's global ids start.

    Attributes
    ----------
    array : dask.array.Array of shape (n, d)
        One column chunk; row chunks are non-empty.
    sizes : tuple of int
        Rows per chunk.
    from_dask : bool
        Whether the input was a dask collection (else in-memory literals).
    """

    array: da.Array
    sizes: tuple[int, ...]
    from_dask: bool = False

    @property
    def n(self) -> int:
        """Total rows."""
        return int(sum(self.sizes))

    def offsets(self, start: int = 0) -> list[int]:
        """Global id of each chunk's first row, the first being ``start``."""
        return [start + int(o) for o in np.concatenate([[0], np.cumsum(self.sizes)[:-1]])]

    def blocks(self) -> list[Any]:
        """The chunks as Delayed objects, in row order."""
        return list(self.array.to_delayed().ravel())


def is_dask(X: Any) -> bool:
    """Whether ``X`` is a dask collection (array or dataframe)."""
    return dask.is_dask_collection(X)


def check_n_shards(value: Any, name: str = "n_shards") -> None:
    """None or an int >= 1."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be None or an int >= 1, got {value!r}")


def split_sizes(n: int, n_shards: int) -> tuple[int, ...]:
    """Rows per shard when ``n`` rows are split into ``min(n_shards, n)`` near-equal shards."""
    n_shards = max(1, min(int(n_shards), int(n)))
    base, extra = divmod(int(n), n_shards)
    return tuple(base + (j < extra) for j in range(n_shards))


def dask_rows(X: Any) -> da.Array:
    """A 2-D dask array of ``X`` (a dask array or a dask dataframe), one column chunk.

    Raises
    ------
    TypeError
        For a collection that is neither, or a non-numeric dtype.
    ValueError
        If it is not 2-D or has no rows or columns.
    """
    if not isinstance(X, da.Array):
        if not hasattr(X, "to_dask_array"):
            raise TypeError(f"expected a dask array or dataframe, got {type(X).__name__}")
        X = X.to_dask_array(lengths=True)
    if X.ndim != 2:
        raise ValueError(f"Expected 2D array, got a dask array of shape {X.shape}")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X must hold real numbers, got dtype {X.dtype}")
    if any(np.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"Found array with shape {X.shape}; at least one row and one "
                         "column are required")
    return X.rechunk({1: -1})


def partition(X: Any, n_shards: int | None, default_shards: int) -> Partitions:
    """Row partitions of ``X`` (validated numpy, or a dask array / dataframe).

    Parameters
    ----------
    X : ndarray or dask collection
        In-memory input must already be validated (2-D, finite, float).
    n_shards : int or None
        Shards wanted; None keeps a dask array's row chunks, and splits an
        in-memory array into ``default_shards``.
    default_shards : int
        Shards of in-memory input when ``n_shards`` is None (the workers).
    """
    if is_dask(X):
        arr = dask_rows(X)
        if n_shards is not None:
            arr = arr.rechunk({0: split_sizes(arr.shape[0], n_shards)})
    else:
        X = np.asarray(X)
        arr = literal_blocks(X, split_sizes(X.shape[0],
                                            default_shards if n_shards is None else n_shards))
    keep = [j for j, c in enumerate(arr.chunks[0]) if c > 0]
    if len(keep) < len(arr.chunks[0]):
        arr = da.concatenate([arr.blocks[j] for j in keep], axis=0)
    return Partitions(arr, tuple(int(c) for c in arr.chunks[0]), is_dask(X))


def _block(rows: np.ndarray) -> np.ndarray:
    """A graph literal's value (the task that yields one block)."""
    return rows


def literal_blocks(X: np.ndarray, sizes: tuple[int, ...]) -> da.Array:
    """A dask array of in-memory ``X`` whose row blocks are separate graph literals.

    Each block is the argument of its own task, so it travels (once) to the
    worker that needs it and the scheduler can run that task again after a
    worker is lost; :func:`dask.array.from_array` would instead put the whole
    array behind one key that every block depends on.
    """
    stops = np.cumsum(sizes)
    parts = [da.from_delayed(delayed(_block, pure=True)(X[stop - size:stop]),
                             shape=(size, X.shape[1]), dtype=X.dtype)
             for size, stop in zip(sizes, stops, strict=True)]
    return parts[0] if len(parts) == 1 else da.concatenate(parts, axis=0)


def query_blocks(Q: Any, block_size: int) -> tuple[list[Any], tuple[int, ...]]:
    """Query blocks and their row counts.

    A dask array keeps its row chunks (Delayed blocks); an in-memory array is
    cut into views of ``block_size`` rows, which travel as task arguments.
    """
    if is_dask(Q):
        arr = dask_rows(Q)
        return list(arr.to_delayed().ravel()), tuple(int(c) for c in arr.chunks[0])
    Q = np.asarray(Q)
    starts = range(0, max(Q.shape[0], 1), block_size)
    blocks = [Q[a:a + block_size] for a in starts]
    return blocks, tuple(b.shape[0] for b in blocks)
