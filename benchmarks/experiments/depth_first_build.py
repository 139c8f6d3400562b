"""Experiment (not yet in the package): a depth-first batch construction, fast in 3-D.

The batch construction of Beygelzimer, Kakade and Langford, rewritten for
the compressed tree and run on one array of point indices cut into
segments (no allocation per call). Run
``python benchmarks/experiments/depth_first_build.py W1`` (a preset of
``covertreex bench``; an optional second argument scales it, ``dup`` adds
exact duplicates): it builds the tree, runs ``check_invariants`` and times
``CoverTree().fit`` beside it.

The algorithm. A frame ``(p, lev, near, far)`` of ``_construct`` chooses the children of
``p`` at levels <= ``lev``. ``near`` holds the unconsumed points within
``2^(lev+1)`` of ``p``, ``far`` those in ``(2^(lev+1), 2^(lev+2)]``. It drops
the duplicates of ``p`` (distance 0), skips the empty levels (``lev`` falls to
``ceil_log2(max near distance) - 1``), hands the points within ``2^lev`` (and,
as far set, the rest of ``near``) to ``p``'s own next level, and gets back
the points nobody below took. Then, while some of those remain, it picks one
(``q``) as a new node at level ``lev`` under ``p``, gives ``q`` every candidate
(returned or far) within ``2^(lev+1)`` of ``q`` and recurses. What ``q`` leaves
comes back to ``p``'s candidates or its far set. The far sets are returned
up to the caller.

Why it is a valid tree. A call for ``p`` at level ``lev`` sees every
unconsumed point within ``2^(lev+2)`` of ``p`` (by induction: the caller saw
every one within twice that of itself, and ``q`` is within ``2^(lev+1)`` of
it). So when a node ``r`` passes level ``l``, every unconsumed point within
``2^l`` of it is in its near set and is consumed below level ``l``. Two nodes
of level >= ``l`` are therefore more than ``2^l`` apart, whichever was made
first (separation). A new node lies within ``2^(lev+1)`` of its parent
(cover), and its parent's level is above ``lev``.

Measured (2 threads available, the construction runs on one; quiet machine,
2026-12-03; ``CoverTree().fit`` in the same process; invariants checked):

* W1 (n = 100k, d = 3): 0.22 s against ``fit``'s 1.00 s (14M distances);
* W2 (n = 100k, d = 8): 14.7 s against 9.1 s. At n = 30k, 95% of its
  106M distances are far-set points that a child compares and does not
  take; a triangle-inequality skip with the distance to the parent removes
  only 18% of them;
* W3 (n = 200k, a 4-dim subspace of d = 16): 3.8 s against 3.9 s;
* H3 (n = 1M, d = 2): 1.6 s, plus 0.2 s of radii and 0.5 s of
  finalize, against ``fit``'s 5.8 s.

With the recursion replaced by a loop over an explicit stack of frames
(numba segfaults when it loads a cached recursive function), a second run
(2026-12-03 16:01 UTC, load 0.4-1.0) gave W1 0.21-0.25 s against 0.73-0.93 s,
W2 11.8 s against 7.3 s and H3 1.9 s against 7.8 s. Adversarial inputs
(one point, two, all equal, 1e-150 and 1e150 scales, a lattice, each row
four times) pass ``check_invariants`` with every id kept. Still to do
before it is a registered construction: the choice between it and the
batch insertion as a strategy, a second thread, and the 8-D cost.
"""

import math
import sys
import time

import numpy as np
from numba import njit

from sklearn_covertreex.backends.numba.build import ceil_log2, distances_to_point, update_radii
from sklearn_covertreex.backends.numba.distance import _row_dist, rows


@njit(cache=True)
def _swap_blocks(buf, a, b, c):
    """[a,b) X, [b,c) Y -> Y then X (order inside may change)."""
    lx = b - a
    ly = c - b
    if lx <= ly:
        for t in range(lx):
            s = buf[a + t]
            buf[a + t] = buf[c - lx + t]
            buf[c - lx + t] = s
    else:
        for t in range(ly):
            s = buf[a + t]
            buf[a + t] = buf[b + t]
            buf[b + t] = s


#: Phases of a frame of :func:`_construct`.
_ENTER, _AFTER_SKIP, _AFTER_SELF, _AFTER_CHILD = 0, 1, 2, 3


@njit(cache=True)
def _push(stack, top, p, lev, lo, nn, nf):
    """Push an entering frame; return the (possibly grown) stack and the new top."""
    top += 1
    if top == stack.shape[0]:
        grown = np.empty((2 * stack.shape[0], stack.shape[1]), np.int64)
        grown[:top] = stack[:top]
        stack = grown
    stack[top, 0] = p
    stack[top, 1] = lev
    stack[top, 2] = lo
    stack[top, 3] = nn
    stack[top, 4] = nf
    stack[top, 5] = _ENTER
    return stack, top


@njit(cache=True)
def _construct(metric, P, root, top_level, buf, dist, tmp, tmpd, level, parent, pdist, dup_of):
    """Place every row of ``buf`` under ``root`` (a loop over an explicit stack of frames).

    A frame ``(p, lev, lo, nn, nf, phase, u, end, w, nt)`` chooses ``p``'s
    children at levels <= ``lev``: ``buf[lo:lo+nn]`` is its near set (``dist``
    <= 2^(lev+1), the distance to ``p``), the next ``nf`` its far set (up to
    2^(lev+2)). A finished frame leaves its unused far points first in its
    segment and returns their count (``ret``) to the frame below.
    """
    stack = np.empty((64, 10), np.int64)
    top = -1
    stack, top = _push(stack, top, root, top_level - 1, 0, buf.shape[0], 0)
    ret = 0
    while top >= 0:
        p = stack[top, 0]
        lev = stack[top, 1]
        lo = stack[top, 2]
        nn = stack[top, 3]
        nf = stack[top, 4]
        phase = stack[top, 5]
        sep = math.ldexp(1.0, lev)
        cov = 2.0 * sep
        if phase == _ENTER:
            w = lo
            for t in range(lo, lo + nn):  # exact duplicates of p
                x = buf[t]
                if dist[x] == 0.0:
                    dup_of[x] = p
                else:
                    buf[t] = buf[w]
                    buf[w] = x
                    w += 1
            if w < lo + nn:
                _swap_blocks(buf, w, lo + nn, lo + nn + nf)
                nn = w - lo
            if nn == 0:
                ret = nf
                top -= 1
                continue
            m = 0.0
            for t in range(lo, lo + nn):
                m = max(m, dist[buf[t]])
            k = ceil_log2(m) - 1
            stack[top, 3] = nn
            if k < lev:  # no child above level k: skip the empty levels
                stack[top, 5] = _AFTER_SKIP
                stack, top = _push(stack, top, p, k, lo, nn, 0)
                continue
            w = lo
            for t in range(lo, lo + nn):  # p's own next level takes the points within sep
                x = buf[t]
                if dist[x] <= sep:
                    buf[t] = buf[w]
                    buf[w] = x
                    w += 1
            stack[top, 5] = _AFTER_SELF
            stack, top = _push(stack, top, p, lev - 1, lo, w - lo, lo + nn - w)
            continue
        if phase == _AFTER_SKIP:
            _swap_blocks(buf, lo, lo + nn, lo + nn + nf)
            ret = nf
            top -= 1
            continue
        if phase == _AFTER_SELF:
            u = ret
            _swap_blocks(buf, lo + u, lo + nn, lo + nn + nf)
            end = lo + u + nf
        else:  # _AFTER_CHILD: the points q left come back to p's candidates or far set
            u = stack[top, 6]
            w = stack[top, 8]
            uq = ret
            end = w
            if uq:
                nt = 0
                for t in range(w, w + uq):
                    x = buf[t]
                    dist[x] = _row_dist(metric, P, p, P, x)
                    tmp[nt] = x
                    nt += 1
                nfar = w - (lo + u)
                for t in range(nfar):
                    tmp[nt + t] = buf[lo + u + t]
                a = lo + u
                for t in range(nt):
                    if dist[tmp[t]] <= cov:
                        buf[a] = tmp[t]
                        a += 1
                u = a - lo
                for t in range(nt, nt + nfar):
                    buf[a] = tmp[t]
                    a += 1
                for t in range(nt):
                    if dist[tmp[t]] > cov:
                        buf[a] = tmp[t]
                        a += 1
                end = a
        if u == 0:
            ret = end - lo
            top -= 1
            continue
        # a new child q at level lev: the last candidate
        q = buf[lo + u - 1]
        u -= 1
        buf[lo + u] = buf[end - 1]
        end -= 1
        buf[end] = q
        level[q] = lev
        parent[q] = p
        pdist[q] = dist[q]
        nt = 0
        w = lo
        unew = 0
        for t in range(lo, end):
            x = buf[t]
            d = _row_dist(metric, P, q, P, x)
            if d <= cov:
                tmp[nt] = x
                tmpd[nt] = d
                nt += 1
            else:
                buf[w] = x
                w += 1
            if t == lo + u - 1:
                unew = w - lo
        u = unew
        a = w
        for t in range(nt):  # q's near set, then its far set
            if tmpd[t] <= sep:
                buf[a] = tmp[t]
                dist[tmp[t]] = tmpd[t]
                a += 1
        nq = a - w
        for t in range(nt):
            if tmpd[t] > sep:
                buf[a] = tmp[t]
                dist[tmp[t]] = tmpd[t]
                a += 1
        stack[top, 5] = _AFTER_CHILD
        stack[top, 6] = u
        stack[top, 8] = w
        stack, top = _push(stack, top, q, lev - 1, w, nq, nt - nq)
    return ret


def build(metric, X, order):
    """Level, parent, parent distance and duplicate owner of every row; nodes root first."""
    n = X.shape[0]
    P = rows(metric, X)
    root = int(order[0])
    dist = distances_to_point(metric, X, X[root])
    level = np.zeros(n, np.int64)
    parent = np.full(n, -1, np.int64)
    pdist = np.zeros(n)
    dup_of = np.full(n, -1, np.int64)
    buf = np.ascontiguousarray(order[1:].astype(np.int64))
    tmp = np.empty(n, np.int64)
    tmpd = np.empty(n)
    dmax = float(dist.max())
    L = ceil_log2(dmax) if dmax > 0 else 0
    level[root] = L
    _construct(metric, P, root, L, buf, dist, tmp, tmpd, level, parent, pdist, dup_of)
    nodes = np.flatnonzero(dup_of < 0)
    # root first
    nodes = np.concatenate(([root], nodes[nodes != root]))
    return nodes, level, parent, pdist, dup_of


def to_tree(ctx, X, nodes, level, parent, pdist, dup_of):
    """The frozen tree of :func:`build`'s output (radii computed, duplicates as extra ids)."""
    from sklearn_covertreex.algo.batch.builder import TreeBuilder

    index = np.full(X.shape[0], -1)
    index[nodes] = np.arange(nodes.size)
    b = TreeBuilder(X.shape[1:], nodes.size, X.shape[0])
    par = np.where(parent[nodes] >= 0, index[np.maximum(parent[nodes], 0)], -1)
    b._append(X[nodes], level[nodes], par, None, pdist[nodes])
    b.root = 0
    update_radii(ctx.kernel_metric, b.points, b.parent, b.radius, np.arange(b.n))
    b.add_ids(np.arange(nodes.size), nodes)
    dups = np.flatnonzero(dup_of >= 0)
    b.add_ids(index[dup_of[dups]], dups)
    return b.finalize(ctx, None)


def main(argv):
    """Build one preset both ways; check the tree's invariants."""
    from sklearn_covertreex.api import CoverTree
    from sklearn_covertreex.cli.workloads import PRESETS, make_data
    from sklearn_covertreex.core.invariants import check_invariants
    name = argv[1]
    scale = float(argv[2]) if len(argv) > 2 else 1.0
    X, _ = make_data(PRESETS[name].scaled(scale), 0)
    if "dup" in argv:
        X = np.vstack([X, X[:1000], X[:10]])
    order = np.random.default_rng(0).permutation(X.shape[0])
    probe = CoverTree().fit(X[:50])
    ctx = probe._ctx(probe._make_params(X.shape[1]))
    metric = ctx.kernel_metric
    build(metric, X[:300], order[order < 300])  # compile
    t0 = time.perf_counter()
    nodes, level, parent, pdist, dup_of = build(metric, X, order)
    t1 = time.perf_counter()
    print(name, X.shape, f"bkl {t1 - t0:.3f} s", "nodes", nodes.size)
    tree = to_tree(ctx, X, nodes, level, parent, pdist, dup_of)
    print(f"radii and finalize {time.perf_counter() - t1:.3f} s")
    check_invariants(tree)
    print("invariants ok", "levels", np.unique(tree.level).size)
    t0 = time.perf_counter()
    CoverTree().fit(X)
    print(f"CoverTree().fit {time.perf_counter() - t0:.3f} s")


if __name__ == "__main__":
    main(sys.argv)
