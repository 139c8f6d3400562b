"""Grid conflicts (jax): cells hashed and looked up on the host, distances jitted.

The jax version of :func:`sklearn_covertreex.backends.numba.conflict.conflict_cells`,
as whole-array steps per level ``a`` (highest first) and block of sources:

1. the targets (points of level ``>= a``) are sorted by the hash of their
   cell on the grid of side ``2**a`` (:mod:`sklearn_covertreex.backends.cell_hash`);
2. every source (point of level ``a``) hashes each cell of its widened
   look-up window, finds that hash's run of targets by binary search, and
   the runs are expanded into candidate pairs (a source whose rounding
   slack exceeds a cell takes every target);
3. all candidates of the block are decided by the exact distance test in
   one jitted call, padded to a power of two.

Cells, the window and the hashes are those of the numba kernel (clamped
floor, the same slack, uint64 arithmetic that wraps alike), so the
candidates are the same; hash collisions only add candidates and may repeat
a pair, as the kernel contract allows.

Why the look-ups are not jitted: a version with the hashing, sorting and
``searchsorted`` in jax gave the same warm times on CPU, but its shapes
vary with the sources, targets and candidates of every level, and compiling
them added about 30 s to the first build of 20k points (27 shapes of the
pair step alone). Here only the distance step compiles, once per candidate
bucket, and it shares its compilations with the backend's other distance
calls.
"""

from __future__ import annotations

import math

import numpy as np

from ..cell_hash import cell_table, hash_cells, look_up_window
from ..numpy._arrays import _ranges
from .build import _distances
from .distance import check_width

#: Sources per block: bounds the (source, window cell) arrays.
SOURCE_BLOCK = 16384


def _candidates(sources, lo, span, every, sh, st, k):
    """Candidate pairs (source, target) of the sources' windows in the sorted table."""
    grid = np.stack(np.meshgrid(*([np.arange(4)] * k), indexing="ij"), -1).reshape(-1, k)
    src, off = np.nonzero(np.all(grid[None, :, :] < span[:, None, :], axis=2) & ~every[:, None])
    h = hash_cells(lo[src] + grid[off])
    first = np.searchsorted(sh, h, side="left")
    pos, owner = _ranges(first, np.searchsorted(sh, h, side="right") - first)
    far = sources[every]
    i = np.concatenate([sources[src[owner]], np.repeat(far, st.shape[0])])
    j = np.concatenate([st[pos], np.tile(st, far.shape[0])])
    return i, j


def conflict_cells(metric, X, lev, Y, y_rtol):
    """Conflict pairs found through a grid over an embedding Y of the points (jax distances).

    Y (n, k) must satisfy ``|Y[i, t] - Y[j, t]| <= d(i, j)`` for every column
    up to a rounding error of ``y_rtol * |Y|``. A point of level a looks up
    the points of level >= a in the cells around its own on a grid of side
    ``2**a``, widened by the slack; every candidate is decided by the exact
    distance test. Pairs (min, max) may repeat (hash collisions).
    """
    check_width(metric, X.shape[1])
    X = np.asarray(X)
    lev = np.asarray(lev, np.int64)
    Y = np.asarray(Y, np.float64)
    k = Y.shape[1]
    out_i, out_j = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    if X.shape[0] < 2:
        return out_i[0], out_j[0]
    for a in np.unique(lev)[::-1].tolist():
        side = math.ldexp(1.0, a)
        sh, st = cell_table(np.flatnonzero(lev >= a), Y, side)
        level_a = np.flatnonzero(lev == a)
        for b in range(0, level_a.shape[0], SOURCE_BLOCK):
            sources = level_a[b : b + SOURCE_BLOCK]
            i, j = _candidates(sources, *look_up_window(Y[sources], side, y_rtol), sh, st, k)
            # a pair of two level-a points is found from both ends: keep one
            keep = (j != i) & ((lev[j] != a) | (j > i))
            i, j = i[keep], j[keep]
            hit = _distances(X[i], X[j]) <= side
            out_i.append(np.minimum(i, j)[hit])
            out_j.append(np.maximum(i, j)[hit])
    return np.concatenate(out_i), np.concatenate(out_j)
