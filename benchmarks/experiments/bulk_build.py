"""Experiment (not part of the package): a level-synchronous bulk build, measured slower.

What issue 10 asks as its first item: a top-down build in which every point
carries its nearest node down the levels, so no point searches from the
root. This file is a complete, exact version of it (numba), kept to record
why the package does not use it. Run ``python benchmarks/experiments/bulk_build.py W1``
(a preset of ``covertreex bench``; an optional second argument scales it,
``hil`` sorts the rows along a Hilbert curve first): it builds the tree,
runs ``check_invariants`` and times ``CoverTree().fit`` beside it.

The algorithm. Levels are processed top down, skipping empty ones. Every
point not in the tree holds its nearest node (``owner``) and the distance
(``near``); every node owning a point holds the list of owning nodes within
``4 * 2^j`` (``j``: the last level). At level ``i`` (``sep = 2^i``):

* candidates are points with ``near > sep``; a greedy maximal independent
  set of them under ``d <= sep`` (in priority order; the same set Luby's
  algorithm gives with those priorities) becomes level ``i``, each under its
  owner (``near <= 2 sep``, so cover holds); only points owned by listed
  neighbours (``d(p, q) <= near(x) + 3 sep``) can conflict;
* every other point moves to its nearest new node, which hangs under a
  listed neighbour ``q`` of its owner ``p`` with ``d(p, q) <= 2 near + 2 sep``;
* the new owners' lists at ``4 sep`` are read from the old lists of the
  owners (or of the parent, for a new node): a pair of new nodes has parents
  within ``2 sep + 4 sep + 2 sep = 8 sep = 4 * 2^(i+1)``.

Since ``owner`` is the exact nearest node, ``C_i`` stays ``2^i``-separated
and every new node is within ``2^(i+1)`` of its parent: a valid tree.

Measured (2 threads, quiet machine, 2026-12-02; ``CoverTree().fit`` in the
same process):

* W1 (n = 100k, d = 3): 4.3 s in random priority order, 2.2 s with the rows
  Hilbert-sorted, against ``fit``'s 0.96-1.09 s; peak list entries 1.5M;
* W2 at n = 20k (d = 8): 5.2 s against 0.92 s; the lists hold 11.6M
  entries at one level (nearly every owner lists every other); at full W2
  254 s and 190M entries.

The factor 4 in the list radius is forced by the new-to-new step above, and
with it a 3-D node lists 60-90 owners, each a random memory access and
often a distance, at every level; in 8-D, with five levels across the
data, the lists are nearly complete. The batch insertion's best-first
search prunes with subtree radii and evaluates fewer distances in total.
"""


from __future__ import annotations

import math
import sys
import time

import numpy as np
from numba import njit

from sklearn_covertreex._parallel import for_chunks
from sklearn_covertreex.backends.contract import PRUNE_RTOL, ceil_log2, ceil_log2_array
from sklearn_covertreex.backends.numba.build import distances_to_point, update_radii
from sklearn_covertreex.backends.numba.distance import _row_dist, rows

#: Fewest points per chunk of the per-point kernels.
BULK_GRAIN = 256


@njit(cache=True)
def _net_mis(metric, points, rem, owner, near, slot, nbr_ptr, nbr, nbr_d, sep, win_head,
             win_next, is_new):
    """Greedy MIS of the candidates (near > sep) of ``rem`` (in priority order).

    Winners are pushed on per-owner-slot linked lists (``win_head``,
    ``win_next``); returns the number of winners. A candidate x owned by p
    can only conflict with a candidate y owned by q when
    d(p, q) <= near(x) + sep + near(y) <= near(x) + 3 sep.
    """
    count = 0
    for a in range(rem.shape[0]):
        x = rem[a]
        mx = near[x]
        if mx <= sep:
            continue
        s = slot[owner[x]]
        lim = mx + 3.0 * sep
        free = True
        for e in range(nbr_ptr[s], nbr_ptr[s + 1]):
            if nbr_d[e] > lim * (1.0 + PRUNE_RTOL):
                continue
            w = win_head[slot[nbr[e]]]
            while w >= 0:
                if _row_dist(metric, points, x, points, w) <= sep:
                    free = False
                    break
                w = win_next[w]
            if not free:
                break
        if free:
            win_next[x] = win_head[s]
            win_head[s] = x
            is_new[x] = True
            count += 1
    return count


def net_mis(metric, points, rem, owner, near, slot, nbr_ptr, nbr, nbr_d, sep, n_slots, is_new):
    """Winners of level ``sep = 2^i``: flagged in ``is_new`` and as per-slot linked lists.

    Returns ``(head, next)``: ``head[s]`` the first winner owned by slot
    ``s``, ``next[x]`` the one after ``x`` (-1 ends a list).
    """
    win_head = np.full(n_slots, -1, np.int64)
    win_next = np.full(points.shape[0], -1, np.int64)
    _net_mis(metric, points, rem, owner, near, slot, nbr_ptr, nbr, nbr_d, sep, win_head,
             win_next, is_new)
    return win_head, win_next


@njit(cache=True, nogil=True)
def _reattach_range(metric, points, rem, owner, near, is_new, parent_dist, slot, nbr_ptr, nbr,
                    nbr_d, sep, win_head, win_next, lo, hi):
    """Move each non-winner of rem[lo:hi] to its nearest node, old or new.

    A new node z nearer to x than its owner p (d(x, z) <= near(x)) hangs
    under q with d(q, z) <= 2 sep, so d(p, q) <= 2 near(x) + 2 sep; and
    d(x, z) >= d(p, q) - near(x) - d(q, z) skips z unevaluated.
    """
    for a in range(lo, hi):
        x = rem[a]
        if is_new[x]:
            continue
        p = owner[x]
        mx = near[x]
        s = slot[p]
        best = p
        bestd = mx
        lim = 2.0 * mx + 2.0 * sep
        for e in range(nbr_ptr[s], nbr_ptr[s + 1]):
            dq = nbr_d[e]
            if dq > lim * (1.0 + PRUNE_RTOL):
                continue
            w = win_head[slot[nbr[e]]]
            while w >= 0:
                if dq - mx - parent_dist[w] <= bestd * (1.0 + PRUNE_RTOL) + PRUNE_RTOL * dq:
                    d = _row_dist(metric, points, x, points, w)
                    if d < bestd or (d == bestd and w < best):
                        best = w
                        bestd = d
                w = win_next[w]
        owner[x] = best
        near[x] = bestd


def reattach(metric, points, rem, owner, near, is_new, parent_dist, slot, nbr_ptr, nbr, nbr_d,
             sep, win_head, win_next):
    """Update ``owner`` and ``near`` (in place) of the points of ``rem`` not just attached."""
    for_chunks(_reattach_range, rem.shape[0],
               (metric, points, rem, owner, near, is_new, parent_dist, slot, nbr_ptr, nbr,
                nbr_d, sep, win_head, win_next), grain=BULK_GRAIN)


@njit(cache=True, nogil=True)
def _lists_range(metric, points, owners, parent, parent_dist, old_slot, new_slot, nbr_ptr, nbr,
                 nbr_d, reach, win_head, win_next, out_ptr, out, out_d, fill, lo, hi):
    """Count (``fill`` False) or write the new lists of owners[lo:hi] (radius ``reach``).

    An old owner u reads its own old list; a new node u reads its parent's,
    at d(u, parent) = parent_dist(u) <= reach / 2 (see doc/algorithm.md).
    """
    for a in range(lo, hi):
        u = owners[a]
        if old_slot[u] >= 0:
            anchor = u
            du = 0.0
        else:
            anchor = parent[u]
            du = parent_dist[u]
        s = old_slot[anchor]
        k = out_ptr[a] if fill else 0
        for e in range(nbr_ptr[s], nbr_ptr[s + 1]):
            w = nbr[e]
            dw = nbr_d[e]
            slack = PRUNE_RTOL * (dw + du + reach)
            if new_slot[w] >= 0 and abs(dw - du) <= reach + slack:
                d = dw if anchor == u else _row_dist(metric, points, u, points, w)
                if d <= reach:
                    if fill:
                        out[k] = w
                        out_d[k] = d
                    k += 1
            z = win_head[old_slot[w]]
            while z >= 0:
                if new_slot[z] >= 0 and dw - du - parent_dist[z] <= reach + slack:
                    d = 0.0 if z == u else _row_dist(metric, points, u, points, z)
                    if d <= reach:
                        if fill:
                            out[k] = z
                            out_d[k] = d
                        k += 1
                z = win_next[z]
        if not fill:
            out_ptr[a + 1] = k


def neighbour_lists(metric, points, owners, parent, parent_dist, old_slot, new_slot, nbr_ptr, nbr,
                    nbr_d, reach, win_head, win_next):
    """CSR ``(ptr, nodes, distances)`` of the owners within ``reach`` of each of ``owners``."""
    m = owners.shape[0]
    ptr = np.zeros(m + 1, np.int64)
    dummy_i = np.empty(0, np.int64)
    dummy_f = np.empty(0, np.float64)
    args = (metric, points, owners, parent, parent_dist, old_slot, new_slot, nbr_ptr, nbr, nbr_d,
            reach, win_head, win_next)
    for_chunks(_lists_range, m, (*args, ptr, dummy_i, dummy_f, False), grain=BULK_GRAIN)
    np.cumsum(ptr[1:], out=ptr[1:])
    out = np.empty(ptr[-1], np.int64)
    out_d = np.empty(ptr[-1], np.float64)
    for_chunks(_lists_range, m, (*args, ptr, out, out_d, True), grain=BULK_GRAIN)
    return ptr, out, out_d

def build(metric, X, order):
    """Nodes (in creation order), level, parent, parent distance and duplicate owner per row."""
    n = X.shape[0]
    P = rows(metric, X)
    root = int(order[0])
    near = distances_to_point(metric, X, X[root])
    owner = np.full(n, root, np.int64)
    level = np.zeros(n, np.int64)
    parent = np.full(n, -1, np.int64)
    pdist = np.zeros(n)
    dup_of = np.full(n, -1, np.int64)
    is_new = np.zeros(n, bool)
    rem = order[1:].astype(np.int64)
    zero = near[rem] == 0
    dup_of[rem[zero]] = root
    rem = rem[~zero]
    level[root] = ceil_log2(float(near[rem].max())) if rem.size else 0
    slot = np.full(n, -1, np.int64)
    slot[root] = 0
    nbr_ptr, nbr, nbr_d = np.array([0, 1]), np.array([root]), np.zeros(1)
    nodes = [np.array([root])]
    stats = {"levels": 0, "peak_entries": 1}
    while rem.size:
        i = int(ceil_log2_array(near[rem]).max()) - 1
        sep = math.ldexp(1.0, i)
        head, nxt = net_mis(metric, P, rem, owner, near, slot, nbr_ptr, nbr, nbr_d, sep,
                            nbr_ptr.shape[0] - 1, is_new)
        won = rem[is_new[rem]]
        level[won], parent[won], pdist[won] = i, owner[won], near[won]
        nodes.append(won)
        reattach(metric, P, rem, owner, near, is_new, pdist, slot, nbr_ptr, nbr, nbr_d, sep,
                 head, nxt)
        rest = rem[~is_new[rem]]
        zero = near[rest] == 0
        dup_of[rest[zero]] = owner[rest[zero]]
        rem = rest[~zero]
        owners = np.unique(owner[rem])
        new_slot = np.full(n, -1, np.int64)
        new_slot[owners] = np.arange(owners.size)
        nbr_ptr, nbr, nbr_d = neighbour_lists(metric, P, owners, parent, pdist, slot, new_slot,
                                              nbr_ptr, nbr, nbr_d, 4.0 * sep, head, nxt)
        slot = new_slot
        is_new[won] = False
        stats["levels"] += 1
        stats["peak_entries"] = max(stats["peak_entries"], nbr.size)
    return np.concatenate(nodes), level, parent, pdist, dup_of, stats


def main(argv):
    """Build one preset both ways; check the bulk tree's invariants."""
    from sklearn_covertreex.algo.batch.builder import TreeBuilder
    from sklearn_covertreex.algo.order.hilbert import hilbert_permutation
    from sklearn_covertreex.api import CoverTree
    from sklearn_covertreex.cli.workloads import PRESETS, make_data
    from sklearn_covertreex.core.invariants import check_invariants

    name = argv[1]
    scale = float(argv[2]) if len(argv) > 2 else 1.0
    X, _ = make_data(PRESETS[name].scaled(scale), 0)
    order = np.random.default_rng(0).permutation(X.shape[0])
    if "hil" in argv:
        X = np.ascontiguousarray(X[hilbert_permutation(X)])
        order = np.arange(X.shape[0])
    probe = CoverTree().fit(X[:50])
    ctx = probe._ctx(probe._make_params(X.shape[1]))
    metric = ctx.kernel_metric
    build(metric, X[:300], order[order < 300])  # compile
    t0 = time.perf_counter()
    nodes, level, parent, pdist, dup_of, stats = build(metric, X, order)
    print(name, X.shape, f"bulk {time.perf_counter() - t0:.3f} s", stats)
    index = np.full(X.shape[0], -1)
    index[nodes] = np.arange(nodes.size)
    b = TreeBuilder(X.shape[1:], nodes.size, X.shape[0])
    par = np.where(parent[nodes] >= 0, index[np.maximum(parent[nodes], 0)], -1)
    b._append(X[nodes], level[nodes], par, None, pdist[nodes])
    b.root = int(index[nodes[0]])
    update_radii(metric, b.points, b.parent, b.radius, np.arange(b.n))
    b.add_ids(np.arange(nodes.size), nodes)
    dups = np.flatnonzero(dup_of >= 0)
    b.add_ids(index[dup_of[dups]], dups)
    check_invariants(b.finalize(ctx, None))
    print("invariants ok")
    t0 = time.perf_counter()
    CoverTree().fit(X)
    print(f"CoverTree().fit {time.perf_counter() - t0:.3f} s")


if __name__ == "__main__":
    main(sys.argv)
