"""Index helpers of the numpy kernels (shared with jax's): ranges, attachments, ancestors."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def _ranges(starts: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ranges ``starts[a] : starts[a] + lens[a]``.

    Returns (positions, owner) where ``owner`` is the index ``a`` of the range
    each position comes from.
    """
    starts = np.asarray(starts, np.int64)
    lens = np.asarray(lens, np.int64)
    owner = np.repeat(np.arange(lens.shape[0]), lens)
    first = np.cumsum(lens) - lens
    pos = np.arange(int(lens.sum()), dtype=np.int64) - first[owner] + starts[owner]
    return pos, owner


def _csr_gather(ptr: np.ndarray, rows: np.ndarray, starts: np.ndarray | None = None):
    """Positions ``starts[a]:ptr[rows[a] + 1]`` of every row, concatenated.

    Returns (positions, owner) where ``owner`` is the index ``a`` of each
    position's row. ``starts`` defaults to ``ptr[rows]``.
    """
    rows = np.asarray(rows, np.int64)
    if starts is None:
        starts = ptr[rows]
    return _ranges(starts, ptr[rows + 1] - starts)


def attachment(par: np.ndarray, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows grouped by the node they hang under, as a CSR: (ptr, idx).

    The rows under node v are ``idx[ptr[v]:ptr[v + 1]]``, in increasing order.
    """
    par = np.asarray(par, np.int64)
    idx = np.argsort(par, kind="stable").astype(np.int64)
    ptr = np.zeros(n_nodes + 1, np.int64)
    np.cumsum(np.bincount(par, minlength=n_nodes), out=ptr[1:])
    return ptr, idx


def ancestor_generations(parent: np.ndarray, rows: np.ndarray,
                         first: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(row, ancestor) pairs, one generation at a time, up to the root.

    Generation 0 pairs ``rows[t]`` with ``first[t]``, the next with
    ``parent[first[t]]``, and so on; pairs whose ancestor is -1 are dropped.
    """
    rows, anc = np.asarray(rows, np.int64), np.asarray(first, np.int64)
    live = anc >= 0
    rows, anc = rows[live], anc[live]
    while anc.size:
        yield rows, anc
        up = parent[anc]
        live = up >= 0
        rows, anc = rows[live], up[live]


def ancestor_pairs(parent: np.ndarray, rows: np.ndarray,
                   first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every generation of :func:`ancestor_generations`, concatenated: (rows, ancestors)."""
    gens = list(ancestor_generations(parent, rows, first))
    none = np.empty(0, np.int64)
    return (np.concatenate([none, *(r for r, _ in gens)]),
            np.concatenate([none, *(a for _, a in gens)]))
