"""Conflict-graph and maximal-independent-set kernels (jax).

* ``conflict_dense``: every pair's distance and separation test, jitted
  over row tiles of the padded batch; the pairs are gathered on the host;
* ``luby_mis``: Luby's rounds as whole-graph array steps
  (``jax.lax.while_loop``, scatter-add / scatter-max over the padded edge
  list), the same rounds as the numpy reference;
* ``conflict_cells`` (the ``"segmented"`` and ``"grid"`` strategies): cells
  hashed and looked up on the host, every candidate's distance test jitted,
  in :mod:`.cells`;
* ``conflict_tree``: the tree search as one descent of flat (point, node)
  pairs per block of batch points, the integer bookkeeping on the host and
  each step's distances in one jitted call (as ``update_radii`` does).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ..contract import PRUNE_RTOL
from ..numpy._arrays import _ranges, ancestor_pairs, attachment
from ._common import bucket, pad_to, x64
from .build import _distances
from .cells import conflict_cells  # noqa: F401  (the grid look-up has a module of its own)
from .distance import check_width, common_dtype, row_distances

#: Rows per tile of the dense conflict test.
ROW_TILE = 1024
#: Batch points per descent of the tree conflict search (bounds the pair arrays).
POINT_BLOCK = 8192


@functools.partial(jax.jit, static_argnames=("rows",))
def _conflict_tile(X, lev, n, i0, *, rows):
    xi = jax.lax.dynamic_slice_in_dim(X, i0, rows)
    li = jax.lax.dynamic_slice_in_dim(lev, i0, rows)
    d = row_distances(jnp, xi[:, None, :], X[None, :, :])
    i = i0 + jnp.arange(rows)[:, None]
    j = jnp.arange(X.shape[0])[None, :]
    scale = jnp.ldexp(1.0, jnp.minimum(li[:, None], lev[None, :]))
    return (j > i) & (j < n) & (d <= scale)


def conflict_dense(metric, X, lev):
    """All pairs i < j with ``d(X[i], X[j]) <= 2**min(lev[i], lev[j])``, as (ei, ej) int64."""
    check_width(metric, X.shape[1])
    n = X.shape[0]
    if n < 2:
        e = np.empty(0, np.int64)
        return e, e.copy()
    nb = bucket(n)
    rows = min(nb, ROW_TILE)
    dtype = common_dtype(X)
    out_i, out_j = [], []
    with x64():
        Xd = jnp.asarray(pad_to(np.asarray(X, dtype), nb))
        ld = jnp.asarray(pad_to(np.asarray(lev, np.int64), nb))
        for i0 in range(0, n, rows):
            hit = np.asarray(_conflict_tile(Xd, ld, n, i0, rows=rows))
            a, b = np.nonzero(hit)
            out_i.append(a.astype(np.int64) + i0)
            out_j.append(b.astype(np.int64))
    return np.concatenate(out_i), np.concatenate(out_j)


def _batch_radii(points, parent, X, par):
    """Attachment CSR of the batch under their parents and per-node batch radii.

    As the numpy reference's ``batch_radii``, with the distances of every
    (batch point, ancestor) pair in one jitted call.
    """
    att_ptr, att_idx = attachment(par, parent.shape[0])
    rows, anc = ancestor_pairs(parent, np.arange(X.shape[0]), par)
    bradius = np.full(parent.shape[0], -1.0)
    np.maximum.at(bradius, anc, _distances(X[rows], points[anc]))
    return att_ptr, att_idx, bradius


def conflict_tree(metric, points, parent, child_ptr, children, root, X, lev, par):
    """Conflict pairs found by searching the tree the batch joins (jax distances).

    The search of the numpy reference, run for a block of batch points at
    once as one descent of flat (point, node) pairs: at each step the batch
    points attached to the frontier nodes are tested, and the children whose
    batch radius can still reach within ``2**lev[x]`` form the next
    frontier. The integer bookkeeping runs on the host; every distance of a
    step comes from one jitted call. A pair is looked up from its lower-level
    end (ties: the smaller index), so each is reported once.
    """
    check_width(metric, points.shape[1])
    check_width(metric, X.shape[1])
    points, X = np.asarray(points), np.asarray(X)
    parent, child_ptr = np.asarray(parent, np.int64), np.asarray(child_ptr, np.int64)
    children, lev = np.asarray(children, np.int64), np.asarray(lev, np.int64)
    att_ptr, att_idx, bradius = _batch_radii(points, parent, X, np.asarray(par, np.int64))
    out_i, out_j = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    if bradius[root] < 0:
        return out_i[0], out_j[0]
    r = np.ldexp(1.0, lev)
    for lo in range(0, X.shape[0], POINT_BLOCK):
        fx = np.arange(lo, min(lo + POINT_BLOCK, X.shape[0]))
        d, br = _distances(X[fx], points[[root]]), bradius[root]
        fx = fx[d - br <= r[fx] + PRUNE_RTOL * (d + br)]
        fv = np.full(fx.shape[0], root, np.int64)
        while fx.size:
            pos, owner = _ranges(att_ptr[fv], att_ptr[fv + 1] - att_ptr[fv])
            x, y = fx[owner], att_idx[pos]
            later = (lev[y] > lev[x]) | ((lev[y] == lev[x]) & (y > x))
            x, y = x[later], y[later]
            hit = _distances(X[y], X[x]) <= r[x]
            out_i.append(np.minimum(x, y)[hit])
            out_j.append(np.maximum(x, y)[hit])
            pos, owner = _ranges(child_ptr[fv], child_ptr[fv + 1] - child_ptr[fv])
            ch, x = children[pos], fx[owner]
            below = bradius[ch] >= 0
            ch, x = ch[below], x[below]
            d, br = _distances(points[ch], X[x]), bradius[ch]
            near = d - br <= r[x] + PRUNE_RTOL * (d + br)
            fx, fv = x[near], ch[near]
    return np.concatenate(out_i), np.concatenate(out_j)


@jax.jit
def _luby(src, dst, priority, n):
    nv = priority.shape[0]
    state = jnp.where(jnp.arange(nv) < n, 0, 2).astype(jnp.int8)  # 0 undecided, 1 in, 2 out

    def cond(s):
        return (s[0] == 0).any()

    def body(s):
        state, rounds = s
        und = state == 0
        beaten = und[src] & und[dst] & (priority[dst] > priority[src])
        n_beaten = jnp.zeros(nv, jnp.int32).at[src].add(beaten.astype(jnp.int32))
        join = und & (n_beaten == 0)
        state = jnp.where(join, 1, state).astype(jnp.int8)
        hit = jnp.zeros(nv, bool).at[dst].max(join[src])
        state = jnp.where(hit & (state == 0), 2, state).astype(jnp.int8)
        return state, rounds + 1

    state, rounds = jax.lax.while_loop(cond, body, (state, jnp.int64(0)))
    return state == 1, rounds


def luby_mis(indptr, indices, priority):
    """Maximal independent set of a CSR graph (Luby's rounds): (bool mask, number of rounds).

    A vertex joins when its priority beats every undecided neighbour's; the
    neighbours of joined vertices drop out. Priorities must be distinct.
    """
    indptr = np.asarray(indptr, np.int64)
    n = indptr.shape[0] - 1
    if n == 0:
        return np.zeros(0, bool), 0
    src = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    dst = np.asarray(indices, np.int64)
    nv, ne = bucket(n + 1), bucket(src.shape[0])
    priority = np.asarray(priority)
    with x64():
        mask, rounds = _luby(jnp.asarray(pad_to(src, ne, n)), jnp.asarray(pad_to(dst, ne, n)),
                             jnp.asarray(pad_to(priority, nv)), n)
        return np.asarray(mask)[:n].copy(), int(rounds)
