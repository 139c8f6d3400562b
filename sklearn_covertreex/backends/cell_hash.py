"""Hashed grid cells on the host (numpy), shared by the numba, jax and cupy grid conflicts.

A point's cell on a grid of side ``side`` over an embedding ``Y`` is the
clamped floor of ``Y / side`` per column; a cell is looked up by the FNV-1a
hash of its integers (uint64, wrapping). The compiled numba kernel computes
the same cells and hashes one point at a time (``numba/conflict.py``); these
are the whole-array versions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .contract import CELL_CLAMP, CELL_RTOL

#: FNV-1a offset basis and prime.
FNV_OFFSET = np.uint64(1469598103934665603)
FNV_PRIME = np.uint64(1099511628211)


def grid_cells(y: np.ndarray, side: float) -> np.ndarray:
    """Integer cells of ``y`` on a grid of side ``side``, clamped before the conversion.

    ``y / side`` overflows to infinity where the side is tiny against ``y``;
    the clamp then gives the same cell as the compiled version (so the
    overflow is expected and not reported).
    """
    with np.errstate(over="ignore"):
        return np.floor(np.clip(np.asarray(y, np.float64) / side, -CELL_CLAMP,
                                CELL_CLAMP)).astype(np.int64)


def look_up_window(Ys: np.ndarray, side: float,
                   y_rtol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cells each source row of ``Ys`` looks up: (first cell, span, unresolved).

    One cell either way of the source's own, widened by the rounding slack
    ``CELL_RTOL * side + y_rtol * (side + 2 |y|)`` so no pair the distance test
    calls conflicting is missed. Column ``t`` of a row spans ``span[t]`` cells
    from ``lo[t]``; a row is *unresolved* when some span exceeds 4 (the slack
    is wider than a cell): it must test every candidate instead.
    """
    delta = CELL_RTOL * side + y_rtol * (side + 2.0 * np.abs(Ys))
    lo = grid_cells(Ys - delta, side) - 1
    span = grid_cells(Ys + delta, side) + 2 - lo
    return lo, span, np.any(span > 4, axis=1)


def hash_cells(cells: np.ndarray) -> np.ndarray:
    """FNV-1a hash of each row (last axis) of integer cells, as uint64."""
    h = np.full(cells.shape[:-1], FNV_OFFSET, np.uint64)
    for t in range(cells.shape[-1]):
        _mix(h, cells[..., t])
    return h


def _mix(h: np.ndarray, column: np.ndarray) -> None:
    """One FNV-1a step of the hashes ``h`` (in place) with one column of cells."""
    h ^= column.view(np.uint64)
    h *= FNV_PRIME


def cell_table(members: np.ndarray, Y: np.ndarray, side: float) -> tuple[np.ndarray, np.ndarray]:
    """Sorted cell hashes (grid of side ``side``) of the rows ``members`` of Y, and their rows."""
    h = np.full(members.shape[0], FNV_OFFSET, np.uint64)
    for t in range(Y.shape[1]):  # a column at a time: temporaries of one value per point
        _mix(h, grid_cells(Y[members, t], side))
    order = np.argsort(h)
    return h[order], members[order]


#: A grid conflict rebuilds its table of cells when the points added since the
#: last rebuild exceed this fraction of it (see :func:`grid_conflicts`).
TABLE_REUSE = 0.25


def grid_conflicts(probe: Callable[[np.ndarray, float, np.ndarray, np.ndarray], Any],
                   lev: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The level loop of a grid conflict search, with the backend's ``probe`` per table.

    Levels go from the highest down; the sources of level a are the points
    of that level, the targets those of level >= a. The table of the targets
    is rebuilt on the grid of side 2^a only when the points added since the
    last rebuild are more than :data:`TABLE_REUSE` of it; otherwise the
    sources probe the last table (on its coarser grid, which still holds
    every pair within 2^a in the cells around a source) and a small table of
    the points added since, on the same grid. Levels holding few points (a
    long tail of them below the bulk) thus cost no table of the whole batch.

    ``probe(sources, grid, sh, st)`` returns the conflict pairs (ei, ej) of
    ``sources`` with the table (sorted hashes ``sh``, their rows ``st``) on a
    grid of side ``grid``, or None when there are none.
    """
    order = np.argsort(-lev, kind="stable")  # level >= a: a prefix of this order
    sorted_lev = lev[order]
    out_i, out_j = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    table_end, grid, table = 0, 0.0, None
    for a in np.unique(lev)[::-1].tolist():
        first = np.searchsorted(-sorted_lev, -a, side="left")
        end = np.searchsorted(-sorted_lev, -a, side="right")
        sources = order[first:end]
        if table is None or end - table_end > TABLE_REUSE * table_end:
            table_end, grid = end, math.ldexp(1.0, a)
            table = cell_table(order[:end], Y, grid)
            tables = [table]
        else:
            tables = [table, cell_table(order[table_end:end], Y, grid)]
        for sh, st in tables:
            pairs = probe(sources, grid, sh, st)
            if pairs is not None:
                out_i.append(pairs[0])
                out_j.append(pairs[1])
    return np.concatenate(out_i), np.concatenate(out_j)
