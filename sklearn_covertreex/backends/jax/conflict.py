"""Conflict-graph and maximal-independent-set kernels (jax).

* ``conflict_dense``: every pair's distance and separation test, jitted
  over row tiles of the padded batch; the pairs are gathered on the host;
* ``luby_mis``: Luby's rounds as whole-graph array steps
  (``jax.lax.while_loop``, scatter-add / scatter-max over the padded edge
  list), the same rounds as the numpy reference;
* ``conflict_cells`` and ``conflict_tree`` run the **numpy reference on the
  host**: the grid look-up groups points by hashed cells and the tree
  search keeps a variable stack per point, neither written with fixed
  capacities yet. The default strategy (``conflict_graph="segmented"``)
  uses ``distances_to_point`` and ``luby_mis``, which are jax.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .. import numpy as _host
from ._common import bucket, pad_to, x64
from .distance import check_width, common_dtype, row_distances

#: Rows per tile of the dense conflict test.
ROW_TILE = 1024


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


def conflict_cells(metric, X, lev, Y, y_rtol):
    """Conflict pairs through a grid over a 1-Lipschitz embedding ``Y`` (numpy, on the host)."""
    check_width(metric, X.shape[1])
    return _host.conflict_cells(metric, np.asarray(X), np.asarray(lev), np.asarray(Y), y_rtol)


def conflict_tree(metric, points, parent, child_ptr, children, root, X, lev, par):
    """Conflict pairs by searching the tree the batch joins (numpy, on the host)."""
    check_width(metric, points.shape[1])
    check_width(metric, X.shape[1])
    return _host.conflict_tree(metric, np.asarray(points), np.asarray(parent),
                               np.asarray(child_ptr), np.asarray(children), root,
                               np.asarray(X), np.asarray(lev), np.asarray(par))


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
