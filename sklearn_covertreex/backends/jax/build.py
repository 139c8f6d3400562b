"""Construction kernels (jax): traversal, parents, radii, point and pair distances.

* ``traverse_sparse``: a vmapped covering search per batch point (the
  fixed-capacity frontier of :mod:`.heaps`, overflow and retry), one jitted
  call per block of points;
* ``pair_distances``, ``distances_to_point``: jitted row distances over
  whole padded arrays;
* ``update_radii``, ``subtree_radii``: every (node, ancestor) pair of a
  generation listed on the host (integer gathers), all their distances in
  one jitted call, the maxima taken on the host (``np.maximum.at``);
* ``find_parents`` (used by deletes only): the level-by-level descent as
  flat (row, candidate) arrays per block of rows, the integer bookkeeping
  on the host, each step's distances in one jitted call.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ..contract import PRUNE_RTOL, ceil_log2_array
from ..numpy._arrays import _ranges, ancestor_pairs
from ._common import MIN_BLOCK, bucket, pad_to, x64
from ._tree import PaddedTree, padded_tree
from .distance import check_width, common_dtype, row_distances
from .heaps import OVER_FRONTIER, compact, expand_ranges, run_with_retry

#: Most points per jitted traversal call.
POINT_BLOCK = 4096

#: Starting capacities of the covering search: frontier entries, children per step.
FRONTIER0, EXPAND0 = 64, 64


@jax.jit
def _rows(a, b):
    return row_distances(jnp, a, b)


def _distances(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Row-wise distances between equal-length (or one-row) host arrays, on the device."""
    n = max(A.shape[0], B.shape[0])
    if n == 0:
        return np.empty(0, np.float64)
    nb = bucket(n)
    dtype = common_dtype(A, B)
    with x64():
        a = jnp.asarray(pad_to(np.asarray(A, dtype), nb) if A.shape[0] > 1 or n == 1
                        else np.asarray(A, dtype))
        b = jnp.asarray(pad_to(np.asarray(B, dtype), nb) if B.shape[0] > 1 or n == 1
                        else np.asarray(B, dtype))
        return np.asarray(_rows(a, b))[:n].astype(np.float64)


def pair_distances(metric, A, ia, B, ib):
    """Distances between rows ``A[ia[t]]`` and ``B[ib[t]]`` (float64)."""
    check_width(metric, A.shape[1])
    check_width(metric, B.shape[1])
    ia, ib = np.asarray(ia, np.int64), np.asarray(ib, np.int64)
    if ia.shape[0] == 0:
        return np.empty(0, np.float64)
    return _distances(np.asarray(A)[ia], np.asarray(B)[ib])


def distances_to_point(metric, A, x):
    """Distances from the row ``x`` to every row of ``A`` (float64)."""
    check_width(metric, A.shape[1])
    check_width(metric, np.shape(x)[0])
    A = np.asarray(A)
    if A.shape[0] == 0:
        return np.empty(0, np.float64)
    return _distances(A, np.asarray(x)[None, :])


def update_radii(metric, points, parent, radius, nodes) -> None:
    """Raise the subtree radius of every ancestor of ``nodes`` (in place)."""
    check_width(metric, points.shape[1])
    node = np.asarray(nodes, np.int64)
    parent = np.asarray(parent, np.int64)
    all_n, all_a = ancestor_pairs(parent, node, parent[node])
    if all_n.size:
        pts = np.asarray(points)
        np.maximum.at(radius, all_a, _distances(pts[all_n], pts[all_a]))


def subtree_radii(metric, points, parent):
    """Exact subtree radius: largest distance from each node to a descendant."""
    check_width(metric, points.shape[1])
    radius = np.zeros(np.shape(parent)[0], np.float64)
    update_radii(metric, points, parent, radius, np.arange(np.shape(parent)[0]))
    return radius


def _cover(T: PaddedTree, x, *, F: int, E: int):
    """Covering search of one point: (parent node, its distance, duplicate node, overflow)."""
    pad, root = T.pad, T.root
    d0 = row_distances(jnp, x[None, :], T.points[root][None, :])[0]
    dup = jnp.where(d0 == 0.0, root, -1)
    covered = d0 <= jnp.ldexp(1.0, T.level[root])
    best = jnp.where(covered, root, -1)
    bestd = jnp.where(covered, d0, jnp.inf)
    fv = jnp.zeros(F, bool).at[0].set(dup < 0)
    fn = jnp.full(F, pad).at[0].set(root)
    fd = jnp.zeros(F).at[0].set(d0)
    fl = jnp.full(F, jnp.inf).at[0].set(d0 - T.radius[root])
    fc = jnp.zeros(F, T.child_ptr.dtype).at[0].set(T.child_ptr[root])
    state = (fn, fd, fl, fc, fv, best, bestd, dup, jnp.int64(0))

    def cond(s):
        return s[4].any() & (s[7] < 0) & (s[8] == 0)

    def body(s):
        fn, fd, fl, fc, fv, best, bestd, dup, over = s
        lim = jnp.minimum(bestd, jnp.ldexp(1.0, T.level[fn] - 1))
        fv = fv & ~(fl > lim + PRUNE_RTOL * (fd + T.radius[fn]))
        order = jnp.argsort(jnp.where(fv, fl, jnp.inf), stable=True)
        fn, fd, fl, fc, fv = fn[order], fd[order], fl[order], fc[order], fv[order]
        end = T.child_ptr[fn + 1]
        pos, _, valid, taken = expand_ranges(jnp, fc, jnp.where(fv, end - fc, 0), E)
        c = jnp.where(valid, T.children[pos], pad)
        fc = fc + taken
        fv = fv & (fc < end)
        dc = jnp.where(valid, row_distances(jnp, x[None, :], T.points[c]), jnp.inf)
        zero = valid & (dc == 0.0)
        dup = jnp.where(zero.any(), jnp.min(jnp.where(zero, c, pad)), -1)
        covers = valid & (dc <= jnp.ldexp(1.0, T.level[c]))
        cd = jnp.where(covers, dc, jnp.inf)
        m = cd.min()
        cm = jnp.min(jnp.where(covers & (cd == m), c, pad))
        better = covers.any() & ((m < bestd) | ((m == bestd) & (cm < best)))
        best = jnp.where(better, cm, best)
        bestd = jnp.where(better, m, bestd)
        rc = T.radius[c]
        lim_c = jnp.minimum(bestd, jnp.ldexp(1.0, T.level[c] - 1))
        push = valid & (rc > 0.0) & (dc - rc <= lim_c + PRUNE_RTOL * (dc + rc))
        fv, ov, (fn, fd, fl, fc) = compact(
            jnp, jnp.concatenate([fv, push]), F, jnp.concatenate([fn, c]),
            jnp.concatenate([fd, dc]), jnp.concatenate([fl, dc - rc]),
            jnp.concatenate([fc, T.child_ptr[c]]))
        over = over | jnp.where(ov, OVER_FRONTIER, 0)
        return (fn, fd, fl, fc, fv, best, bestd, dup, over)

    s = jax.lax.while_loop(cond, body, state)
    return s[5], s[6], s[7], s[8]


@functools.partial(jax.jit, static_argnames=("F", "E"))
def _cover_block(T, X, *, F, E):
    return jax.vmap(lambda x: _cover(T, x, F=F, E=E))(X)


def traverse_sparse(metric, points, level, radius, parent_dist, child_ptr, children, root, X):
    """For each row of X: insertion level, parent node and duplicate node (-1 if none).

    The parent is the nearest node y with ``d(x, y) <= 2**level(y)`` (ties:
    the smaller index) and the level ``ceil_log2(d(x, parent)) - 1``. A
    duplicate gets level 0 and parent -1; a point nothing covers gets level
    -1 and parent -1. The search prunes like the numpy reference's, in
    batches of ``E`` children; the covering node it finds is the same.
    """
    check_width(metric, points.shape[1])
    check_width(metric, X.shape[1])
    n = X.shape[0]
    if n == 0:
        e = np.empty(0, np.int64)
        return e, e.copy(), e.copy()
    dtype = common_dtype(points, X)
    X = np.ascontiguousarray(X, dtype)
    with x64():
        T = padded_tree(jnp, dtype, points, radius, child_ptr, children, root=root, level=level)

        def run(rows, caps):
            parts = []
            for lo in range(0, rows.shape[0], POINT_BLOCK):
                sel = rows[lo : lo + POINT_BLOCK]
                Xb = pad_to(X[sel], bucket(sel.shape[0], MIN_BLOCK))
                res = _cover_block(T, jnp.asarray(Xb), **caps)
                parts.append([np.asarray(a)[: sel.shape[0]] for a in res])
            return tuple(np.concatenate(p) for p in zip(*parts, strict=True))

        best, bestd, dup, _ = run_with_retry(run, n, {"F": FRONTIER0, "E": EXPAND0},
                                             {"F": OVER_FRONTIER})
    best, dup = best.astype(np.int64), dup.astype(np.int64)
    is_dup = dup >= 0
    out_level = np.where(is_dup, 0, ceil_log2_array(np.where(is_dup, 1.0, bestd)) - 1)
    out_parent = np.where(is_dup, -1, best)
    return out_level.astype(np.int64), out_parent.astype(np.int64), np.where(is_dup, dup, -1)


def _level_runs(child_ptr, children, level):
    """For every child slot: the end of its run of equal-level siblings (children sorted)."""
    m = children.shape[0]
    if m == 0:
        return np.zeros(0, np.int64)
    slot_level = level[children]
    start = np.zeros(m, bool)
    start[0] = True
    start[1:] = slot_level[1:] != slot_level[:-1]
    start[child_ptr[:-1][child_ptr[:-1] < m]] = True
    run_start = np.flatnonzero(start)
    run_end = np.append(run_start[1:], m)
    return run_end[np.cumsum(start) - 1]


def find_parents(metric, points, level, child_ptr, children, root, X, target, eligible):
    """For each row i of X: the nearest eligible node in ``C_target[i]`` within ``2**target[i]``.

    The level-by-level descent of the numpy reference, run for a block of
    rows at once over flat (row, candidate) arrays: each row expands the
    children of its candidates at its own next level ``jn`` and keeps the
    candidates within ``2**(jn + 1)``, until ``jn`` falls below its target.
    The integer bookkeeping runs on the host; each step's distances come
    from one jitted call. Returns int64, -1 where there is none;
    non-eligible nodes still guide the descent.
    """
    check_width(metric, points.shape[1])
    check_width(metric, X.shape[1])
    points, X = np.asarray(points), np.asarray(X)
    level, children = np.asarray(level, np.int64), np.asarray(children, np.int64)
    child_ptr, target = np.asarray(child_ptr, np.int64), np.asarray(target, np.int64)
    eligible = np.asarray(eligible, bool)
    n = X.shape[0]
    out = np.full(n, -1, np.int64)
    run_stop = _level_runs(child_ptr, children, level)
    none = np.iinfo(np.int64).min
    for lo in range(0, n, POINT_BLOCK):
        pt = np.arange(lo, min(lo + POINT_BLOCK, n))
        pt = pt[level[root] >= target[pt]]
        qn = np.full(pt.shape[0], root, np.int64)
        qd, qc = _distances(X[pt], points[[root]]), child_ptr[qn]
        ends = [(pt[:0], qn[:0], qd[:0])]
        while pt.size:
            open_ = qc < child_ptr[qn + 1]
            nxt = np.full(pt.shape[0], none)
            nxt[open_] = level[children[qc[open_]]]
            jn = np.full(POINT_BLOCK, none)
            np.maximum.at(jn, pt - lo, nxt)
            jn = jn[pt - lo]
            go = (jn != none) & (jn >= target[pt])
            ends.append((pt[~go], qn[~go], qd[~go]))
            pt, qn, qd, qc, nxt, jn = pt[go], qn[go], qd[go], qc[go], nxt[go], jn[go]
            count = np.zeros(pt.shape[0], np.int64)
            run = nxt == jn  # the candidate's next children are of level jn
            count[run] = run_stop[qc[run]] - qc[run]
            pos, owner = _ranges(qc, count)
            new, new_pt = children[pos], pt[owner]
            d_new = _distances(X[new_pt], points[new])
            r = np.ldexp(1.0, jn + 1)
            old, fresh = qd <= r, d_new <= r[owner]
            pt = np.concatenate([pt[old], new_pt[fresh]])
            qn = np.concatenate([qn[old], new[fresh]])
            qd = np.concatenate([qd[old], d_new[fresh]])
            qc = np.concatenate([(qc + count)[old], child_ptr[new[fresh]]])
        pt, qn, qd = (np.concatenate(a) for a in zip(*ends, strict=True))
        ok = eligible[qn]
        pt, qn, qd = pt[ok], qn[ok], qd[ok]
        order = np.lexsort((qn, qd, pt))  # per row: nearest, ties to the smaller node
        pt, qn, qd = pt[order], qn[order], qd[order]
        first = np.ones(pt.shape[0], bool)
        first[1:] = pt[1:] != pt[:-1]
        pt, qn, qd = pt[first], qn[first], qd[first]
        close = qd <= np.ldexp(1.0, target[pt])
        out[pt[close]] = qn[close]
    return out
