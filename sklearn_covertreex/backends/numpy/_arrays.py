"""CSR helpers of the numpy kernels: concatenated index ranges."""

from __future__ import annotations

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
