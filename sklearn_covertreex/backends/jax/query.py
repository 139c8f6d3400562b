"""Query kernels (jax): vmapped per-query k-NN and radius searches.

Each query runs its own search (``jax.vmap`` over the queries of a block,
``jax.lax.while_loop`` over steps): a fixed-capacity frontier of nodes
whose children are still to be seen, ordered by the lower bound
``d(q, p) - radius(p)``; each step evaluates the next ``E`` children of the
most promising entries, merges them into a fixed-capacity best list and
pushes the children whose subtree may still hold an answer. A subtree is
pruned when its bound exceeds the current k-th distance (or the radius) by
more than :data:`~..contract.PRUNE_RTOL` slack, as in the other backends.

Structures that would overflow raise a flag; the host reruns those queries
with doubled capacities (:func:`.heaps.run_with_retry`), so answers are
exact. The best list keeps every node at a distance ``<=`` the k-th id
distance (ids counted with their duplicates); the final step expands the
nodes' ids and sorts them by (distance, id), so ties go to the smaller id
as in numba. Distance evaluations and pruned counts describe this search,
which visits nodes in another order than numba's one-at-a-time best-first
search.

Query blocks are padded to powers of two (at most :data:`QUERY_BLOCK`
rows), the tree to powers of two (:mod:`._tree`), capacities are powers of
two: compilations are bounded. ``subtree_end`` is taken and not used: the
searches expand every subtree, which changes the work, not the answers.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ..contract import PRUNE_RTOL
from ._common import MIN_BLOCK, bucket, pad_to, x64
from ._tree import PaddedTree, padded_tree
from .distance import check_width, common_dtype, row_distances
from .heaps import OVER_BEST, OVER_FRONTIER, OVER_IDS, compact, expand_ranges, run_with_retry

#: Most queries per jitted call.
QUERY_BLOCK = 4096

#: Starting capacities: frontier entries, children per step.
FRONTIER0, EXPAND0 = 128, 64

_BITS = {"F": OVER_FRONTIER, "B": OVER_BEST, "I": OVER_IDS}


def _search(T: PaddedTree, q, r, *, knn: bool, k: int, F: int, E: int, B: int):
    """One query's search: (best nodes, their distances, evaluations, pruned, overflow)."""
    pad, root = T.pad, T.root
    d0 = row_distances(jnp, q[None, :], T.points[root][None, :])[0]
    take_root = jnp.bool_(True) if knn else d0 <= r
    bn = jnp.full(B, pad).at[0].set(jnp.where(take_root, root, pad))
    bd = jnp.full(B, jnp.inf).at[0].set(jnp.where(take_root, d0, jnp.inf))
    if knn:
        bound = jnp.where(T.id_count[root] >= k, d0, jnp.inf)
    else:
        bound = r
    r0 = T.radius[root]
    fv = jnp.zeros(F, bool).at[0].set(
        (r0 > 0.0) & ~(d0 - r0 > bound + PRUNE_RTOL * (d0 + r0)))
    fn = jnp.full(F, pad).at[0].set(root)
    fd = jnp.zeros(F).at[0].set(d0)
    fl = jnp.full(F, jnp.inf).at[0].set(d0 - r0)
    fc = jnp.zeros(F, T.child_ptr.dtype).at[0].set(T.child_ptr[root])
    zero = jnp.int64(0)
    state = (fn, fd, fl, fc, fv, bn, bd, bound, zero + 1, zero, zero)

    def cond(s):
        return s[4].any() & (s[10] == 0)

    def body(s):
        fn, fd, fl, fc, fv, bn, bd, bound, n_eval, n_pruned, over = s
        drop = fv & (fl > bound + PRUNE_RTOL * (fd + T.radius[fn]))
        n_pruned = n_pruned + drop.sum()
        fv = fv & ~drop
        order = jnp.argsort(jnp.where(fv, fl, jnp.inf), stable=True)
        fn, fd, fl, fc, fv = fn[order], fd[order], fl[order], fc[order], fv[order]
        end = T.child_ptr[fn + 1]
        pos, _, valid, taken = expand_ranges(jnp, fc, jnp.where(fv, end - fc, 0), E)
        c = jnp.where(valid, T.children[pos], pad)
        fc = fc + taken
        fv = fv & (fc < end)
        dc = jnp.where(valid, row_distances(jnp, q[None, :], T.points[c]), jnp.inf)
        n_eval = n_eval + valid.sum()
        cd, cn = jax.lax.sort((jnp.concatenate([bd, dc]), jnp.concatenate([bn, c])),
                              num_keys=2)
        real = cn != pad
        if knn:
            hit = jnp.cumsum(jnp.where(real, T.id_count[cn], 0)) >= k
            bound = jnp.where(hit.any(), cd[jnp.argmax(hit)], jnp.inf)
        keep = real & (cd <= bound)
        over = over | jnp.where(keep[B:].any(), OVER_BEST, 0)
        bn = jnp.where(keep[:B], cn[:B], pad)
        bd = jnp.where(keep[:B], cd[:B], jnp.inf)
        rc = T.radius[c]
        grows = valid & (rc > 0.0)
        push = grows & (dc - rc <= bound + PRUNE_RTOL * (dc + rc))
        n_pruned = n_pruned + (grows & ~push).sum()
        fv, ov, (fn, fd, fl, fc) = compact(
            jnp, jnp.concatenate([fv, push]), F, jnp.concatenate([fn, c]),
            jnp.concatenate([fd, dc]), jnp.concatenate([fl, dc - rc]),
            jnp.concatenate([fc, T.child_ptr[c]]))
        over = over | jnp.where(ov, OVER_FRONTIER, 0)
        return (fn, fd, fl, fc, fv, bn, bd, bound, n_eval, n_pruned, over)

    s = jax.lax.while_loop(cond, body, state)
    return s[5], s[6], s[8], s[9], s[10]


def _expand_ids(T: PaddedTree, bn, bd, I: int):
    """The ids of the best nodes, sorted by (distance, id): (distances, ids, count, overflow)."""
    lens = T.id_count[bn]
    pos, owner, valid, _ = expand_ranges(jnp, T.id_ptr[bn], lens, I)
    big = jnp.iinfo(jnp.int64).max
    dd, ii = jax.lax.sort((jnp.where(valid, bd[owner], jnp.inf),
                           jnp.where(valid, T.ids[pos], big)), num_keys=2)
    total = lens.sum()
    return dd, jnp.where(ii == big, -1, ii), total, jnp.where(total > I, OVER_IDS, 0)


@functools.partial(jax.jit, static_argnames=("k", "F", "E", "B", "I"))
def _knn_block(T, Q, *, k, F, E, B, I):
    def one(q):
        bn, bd, n_eval, n_pruned, over = _search(T, q, 0.0, knn=True, k=k, F=F, E=E, B=B)
        dd, ii, _, over_ids = _expand_ids(T, bn, bd, I)
        return dd[:k], ii[:k], n_eval, n_pruned, over | over_ids

    return jax.vmap(one)(Q)


@functools.partial(jax.jit, static_argnames=("F", "E", "B", "I", "fill"))
def _radius_block(T, Q, r, *, F, E, B, I, fill):
    def one(q, rq):
        bn, bd, _, _, over = _search(T, q, rq, knn=False, k=0, F=F, E=E, B=B)
        if not fill:
            return T.id_count[bn].sum(), over
        dd, ii, total, over_ids = _expand_ids(T, bn, bd, I)
        return dd, ii, total, over | over_ids

    return jax.vmap(one)(Q, r)


def _blocks(Q: np.ndarray, rows: np.ndarray):
    """Row blocks of at most QUERY_BLOCK, each padded to a power of two: (slice, padded rows)."""
    for lo in range(0, rows.shape[0], QUERY_BLOCK):
        sel = rows[lo : lo + QUERY_BLOCK]
        yield slice(lo, lo + sel.shape[0]), pad_to(Q[sel], bucket(sel.shape[0], MIN_BLOCK))


def _prepare(metric, points, Q):
    check_width(metric, points.shape[1])
    check_width(metric, Q.shape[1])
    dtype = common_dtype(points, Q)
    return dtype, np.ascontiguousarray(Q, dtype)


def knn(metric, points, radius, parent_dist, child_ptr, children, subtree_end, id_ptr, ids, root,
        Q, k):
    """Exact k nearest neighbours of every row of Q (vmapped jax searches).

    Parameters
    ----------
    metric : KernelMetric
        The Euclidean kernel metric of the tree.
    points, radius, parent_dist : ndarray
        Node coordinates, subtree radii and distances to the parent
        (``parent_dist`` is not used: the batched steps prune with the
        subtree bound only).
    child_ptr, children, id_ptr, ids : ndarray
        Children and dataset ids of each node in CSR form.
    root : int
        The root node.
    Q : ndarray (nq, d)
        Queries.
    k : int
        Number of neighbours.

    Returns
    -------
    (distances, ids, evaluations, pruned) : float64 (nq, k), int64 (nq, k), int64 (nq,), int64 (nq,)
        Rows ascending by (distance, id), padded with inf / -1.
    """
    dtype, Q = _prepare(metric, points, Q)
    nq, k = Q.shape[0], int(k)
    if nq == 0:
        empty = np.empty(0, np.int64)
        return np.empty((0, k)), np.empty((0, k), np.int64), empty, empty
    with x64():
        T = padded_tree(jnp, dtype, points, radius, child_ptr, children, id_ptr, ids, root)

        def run(rows, caps):
            parts = []
            for sl, Qb in _blocks(Q, rows):
                res = _knn_block(T, jnp.asarray(Qb), k=k, **caps)
                parts.append([np.asarray(a)[: sl.stop - sl.start] for a in res])
            return tuple(np.concatenate(p) for p in zip(*parts, strict=True))

        kb = bucket(k, 8)
        caps = {"F": FRONTIER0, "E": EXPAND0, "B": 2 * kb, "I": 2 * kb}
        d, i, evals, pruned, _ = run_with_retry(run, nq, caps, _BITS)
    return d.astype(np.float64), i.astype(np.int64), evals.astype(np.int64), \
        pruned.astype(np.int64)


def _radius_caps() -> dict[str, int]:
    return {"F": FRONTIER0, "E": EXPAND0, "B": 64, "I": 64}


def radius_count(metric, points, radius, parent_dist, child_ptr, children, subtree_end, id_ptr, ids,
                 root, Q, r):
    """Number of ids within ``r[i]`` (inclusive) of each row ``Q[i]`` (int64)."""
    dtype, Q = _prepare(metric, points, Q)
    nq = Q.shape[0]
    if nq == 0:
        return np.empty(0, np.int64)
    r = np.broadcast_to(np.asarray(r, np.float64), (nq,))
    with x64():
        T = padded_tree(jnp, dtype, points, radius, child_ptr, children, id_ptr, ids, root)

        def run(rows, caps):
            parts = []
            for sl, Qb in _blocks(Q, rows):
                rb = pad_to(r[rows[sl]], Qb.shape[0])
                caps_b = {n: caps[n] for n in ("F", "E", "B")}
                res = _radius_block(T, jnp.asarray(Qb), jnp.asarray(rb), I=1, fill=False,
                                    **caps_b)
                parts.append([np.asarray(a)[: sl.stop - sl.start] for a in res])
            return tuple(np.concatenate(p) for p in zip(*parts, strict=True))

        counts, _ = run_with_retry(run, nq, _radius_caps(), _BITS)
    return counts.astype(np.int64)


def radius_fill(metric, points, radius, parent_dist, child_ptr, children, subtree_end, id_ptr, ids,
                root, Q, r, offsets):
    """Distances and ids within ``r[i]`` of each ``Q[i]``, written at ``offsets[i]:offsets[i+1]``.

    Each row is in ascending (distance, id) order.
    """
    dtype, Q = _prepare(metric, points, Q)
    nq = Q.shape[0]
    offsets = np.asarray(offsets, np.int64)
    out_d = np.empty(offsets[-1], np.float64)
    out_i = np.empty(offsets[-1], np.int64)
    if nq == 0:
        return out_d, out_i
    r = np.broadcast_to(np.asarray(r, np.float64), (nq,))
    need = np.diff(offsets)
    with x64():
        T = padded_tree(jnp, dtype, points, radius, child_ptr, children, id_ptr, ids, root)
        rows = np.arange(nq)
        caps = _radius_caps()
        caps["I"] = max(caps["I"], bucket(int(need.max(initial=0)), 8))
        caps["B"] = max(caps["B"], caps["I"] // 2)
        while rows.size:
            bad = []
            for sl, Qb in _blocks(Q, rows):
                sel = rows[sl]
                rb = pad_to(r[sel], Qb.shape[0])
                dd, ii, total, over = (np.asarray(a)[: sel.shape[0]] for a in _radius_block(
                    T, jnp.asarray(Qb), jnp.asarray(rb), fill=True, **caps))
                ok = over == 0
                qi = sel[ok]
                m = np.minimum(need[qi], total[ok])
                cols = np.arange(dd.shape[1])[None, :]
                put = cols < m[:, None]
                where = (offsets[qi][:, None] + cols)[put]
                out_d[where] = dd[ok][put]
                out_i[where] = ii[ok][put]
                bad.append(sel[~ok])
            rows = np.concatenate(bad)
            if rows.size:
                caps = {n: 2 * v for n, v in caps.items()}
    return out_d, out_i
