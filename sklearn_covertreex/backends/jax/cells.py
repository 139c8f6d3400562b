"""Grid conflicts (jax): hashed cells, sorted, looked up by every source at once.

The jax version of :func:`sklearn_covertreex.backends.numba.conflict.conflict_cells`,
written as whole-array steps per level ``a`` (highest first):

1. the targets (points of level ``>= a``) get the FNV-1a hash of their cell
   on the grid of side ``2**a`` over the embedding ``Y``, and are sorted by it;
2. every source (point of level ``a``) hashes each of the at most ``4**k``
   cells of its widened look-up window and finds that hash's run of targets
   by binary search (``jnp.searchsorted``); a source whose rounding slack
   exceeds a cell asks for every target;
3. the host adds up the run lengths (one number) and picks a power-of-two
   capacity, so the next step has a bounded set of shapes;
4. the runs are expanded into candidate pairs and each is decided by the
   exact distance test.

Cells, the window and the hashes are computed exactly as numba computes them
(clamped floor, the same slack, uint64 arithmetic that wraps alike), so the
candidates are the same; hash collisions only add candidates and may repeat
a pair, as the kernel contract allows. Shapes are bucketed to powers of two
(targets, sources, candidates; ``k`` and the window are static), so the
number of compilations stays bounded.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from ..contract import CELL_CLAMP, CELL_RTOL
from ._common import bucket, pad_to, x64
from .distance import check_width, common_dtype, row_distances
from .heaps import expand_ranges

#: FNV-1a offset basis and prime (as the numba kernel hashes cells).
_FNV_OFFSET = np.uint64(1469598103934665603)
_FNV_PRIME = np.uint64(1099511628211)
#: Hash of the padding targets: sorts after every real hash (runs are clipped to
#: the real targets, so a real cell that hashes to it finds none of them).
_PAD_HASH = np.uint64(np.iinfo(np.uint64).max)
#: Most cells a look-up window spans per column (as numba clamps it).
_MAX_SPAN = 5


def _cells(y, side):
    """Integer cells of ``y`` on a grid of side ``side`` (clamped first, as numba)."""
    return jnp.floor(jnp.clip(y / side, -CELL_CLAMP, CELL_CLAMP)).astype(jnp.int64)


def _hash(cells):
    """FNV-1a hash of each row of integer cells (uint64, wrapping)."""
    h = jnp.full(cells.shape[:-1], _FNV_OFFSET, jnp.uint64)
    for t in range(cells.shape[-1]):
        h = (h ^ jax.lax.bitcast_convert_type(cells[..., t], jnp.uint64)) * _FNV_PRIME
    return h


@jax.jit
def _table(Yt, nt, side):
    """Sorted hashes of the targets' cells and the positions (in ``Yt``) they sort from."""
    h = _hash(_cells(Yt, side))
    h = jnp.where(jnp.arange(Yt.shape[0]) < nt, h, _PAD_HASH)
    order = jnp.argsort(h, stable=True)
    return h[order], order


@functools.partial(jax.jit, static_argnames=("k",))
def _runs(Ys, ns, sh, nt, side, y_rtol, *, k):
    """Start and length of the run of targets of every (source, window cell); padding: none."""
    delta = CELL_RTOL * side + y_rtol * (side + 2.0 * jnp.abs(Ys))
    lo = _cells(Ys - delta, side) - 1
    span = jnp.minimum(_cells(Ys + delta, side) + 1 - lo + 1, _MAX_SPAN)
    every = jnp.prod(span, axis=1) > 4**k  # the grid cannot resolve this source's slack
    # every window offset (0..3 per column); offsets past a source's span are unused
    grid = np.stack(np.meshgrid(*([np.arange(4)] * k), indexing="ij"), -1).reshape(-1, k)
    cells = lo[:, None, :] + grid[None, :, :]
    used = jnp.all(grid[None, :, :] < span[:, None, :], axis=2)
    h = _hash(cells)
    first = jnp.minimum(jnp.searchsorted(sh, h, side="left"), nt)
    last = jnp.minimum(jnp.searchsorted(sh, h, side="right"), nt)
    lens = jnp.where(used & ~every[:, None], last - first, 0)
    # a source that tests every target: one run of the whole table
    lens = lens.at[:, 0].set(jnp.where(every, nt, lens[:, 0]))
    first = first.at[:, 0].set(jnp.where(every, 0, first[:, 0]))
    lens = jnp.where((jnp.arange(Ys.shape[0]) < ns)[:, None], lens, 0)
    return first.reshape(-1), lens.reshape(-1)


@functools.partial(jax.jit, static_argnames=("cap", "window"))
def _pairs(X, lev, sources, targets, order, first, lens, a, side, *, cap, window):
    """The candidate pairs of the runs, each decided by the exact distance test."""
    pos, owner, valid, _ = expand_ranges(jnp, first, lens, cap)
    i = sources[owner // window]
    j = targets[order[pos]]
    keep = valid & (j != i) & ((lev[j] != a) | (j > i))
    d = row_distances(jnp, X[i], X[j])
    return i, j, keep & (d <= side)


def conflict_cells(metric, X, lev, Y, y_rtol):
    """Conflict pairs found through a grid over an embedding Y of the points (jax).

    Y (n, k) must satisfy ``|Y[i, t] - Y[j, t]| <= d(i, j)`` for every column
    up to a rounding error of ``y_rtol * |Y|``. A point of level a looks up
    the points of level >= a in the cells around its own on a grid of side
    ``2**a``, widened by the slack; every candidate is decided by the exact
    distance test. Pairs (min, max) may repeat (hash collisions).
    """
    check_width(metric, X.shape[1])
    lev = np.asarray(lev, np.int64)
    Y = np.asarray(Y, np.float64)
    n, k = Y.shape
    empty = np.empty(0, np.int64)
    if n < 2:
        return empty, empty.copy()
    window = 4**k
    nb = bucket(n)
    out_i, out_j = [empty], [empty]
    with x64():
        Xd = jnp.asarray(pad_to(np.asarray(X, common_dtype(X)), nb))
        levd = jnp.asarray(pad_to(lev, nb))
        for a in np.unique(lev)[::-1].tolist():
            side = math.ldexp(1.0, a)
            targets = np.flatnonzero(lev >= a)
            sources = np.flatnonzero(lev == a)
            nt, ns = targets.shape[0], sources.shape[0]
            sh, order = _table(jnp.asarray(pad_to(Y[targets], bucket(nt))), nt, side)
            first, lens = _runs(jnp.asarray(pad_to(Y[sources], bucket(ns))), ns, sh, nt, side,
                                float(y_rtol), k=k)
            total = int(lens.sum())
            if total == 0:
                continue
            i, j, hit = _pairs(Xd, levd, jnp.asarray(pad_to(sources, bucket(ns))),
                               jnp.asarray(pad_to(targets, bucket(nt))), order, first, lens,
                               a, side, cap=bucket(total), window=window)
            hit = np.asarray(hit)
            i, j = np.asarray(i)[hit], np.asarray(j)[hit]
            out_i.append(np.minimum(i, j).astype(np.int64))
            out_j.append(np.maximum(i, j).astype(np.int64))
    return np.concatenate(out_i), np.concatenate(out_j)
