"""The numpy backend: a readable, single-threaded reference for the kernels.

Every function here has the signature and the results of its namesake in
:mod:`._numba_kernels` (the specification), and takes the same decisions:
the same tie-breaking, the same exact powers of two, the same pruning slack.
Work is vectorised over children, candidate sets and pairs; points and
queries are handled one at a time. The k-NN search walks the children of a
node one by one, because each child can tighten the bound that decides
whether the next one is evaluated; it pops its frontier in the same order as
the compiled kernel, so the evaluation counts agree too. Distances are
Euclidean and accumulated feature by feature, in the same order as the
compiled kernels, so both backends agree bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

name = "numpy"

#: Relative slack when comparing a lower bound with a current threshold (as numba).
PRUNE_RTOL = 1e-12

#: Grid cells are clamped to this magnitude (as numba) so that they fit an int64.
CELL_CLAMP = 4.0e18
CELL_RTOL = 1e-9

__all__ = [
    "conflict_cells",
    "conflict_dense",
    "conflict_tree",
    "distances_to_point",
    "find_parents",
    "knn",
    "luby_mis",
    "pair_distances",
    "radius_count",
    "radius_fill",
    "subtree_radii",
    "threads",
    "traverse_sparse",
    "update_radii",
]


@contextmanager
def threads(n_jobs: int | None) -> Iterator[None]:
    """Do nothing: the numpy backend is single-threaded."""
    yield


# ----------------------------------------------------------------------------
# helpers


def _diff_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise distances between ``a`` and ``b`` (broadcast against each other).

    The squares are summed feature by feature (not pairwise, not by GEMM) so
    the result is bitwise the one of the compiled kernels.
    """
    dtype = np.result_type(a.dtype, b.dtype)
    a = np.asarray(a, dtype=dtype)
    b = np.asarray(b, dtype=dtype)
    shape = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    s = np.zeros(shape, np.float64)
    for t in range(a.shape[-1]):
        diff = a[..., t] - b[..., t]
        s += diff * diff
    return np.sqrt(s)


def _dist(x: np.ndarray, y: np.ndarray) -> float:
    """Distance between two points, as a Python float."""
    return float(_diff_dists(x, y))


def ceil_log2(x: float) -> int:
    """Smallest integer t with x <= 2**t (x > 0, finite; 0 for inf, as numba)."""
    m, e = math.frexp(x)
    return e - 1 if m == 0.5 else e


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


def _next_level(level, child_ptr, children, qn, qc) -> int | None:
    """Highest level among the un-expanded children of the candidates (None if none)."""
    open_ = qc < child_ptr[qn + 1]
    if not open_.any():
        return None
    return int(level[children[qc[open_]]].max())


def _advance(points, level, child_ptr, children, x, qn, qd, qc, jn):
    """Add the level-``jn`` children of the candidates, keep those within 2^(jn+1).

    Returns the new (nodes, distances, cursors). Children are sorted by level
    descending and no un-expanded child is above ``jn``, so the level-``jn``
    ones come first.
    """
    pos, owner = _csr_gather(child_ptr, qn, qc)
    hit = level[children[pos]] == jn
    pos, owner = pos[hit], owner[hit]
    new = children[pos]
    d_new = _diff_dists(x[None, :], points[new])
    cursor = qc + np.bincount(owner, minlength=qn.shape[0])
    r = math.ldexp(1.0, jn + 1)
    keep_old = qd <= r
    keep_new = d_new <= r
    qn = np.concatenate([qn[keep_old], new[keep_new]])
    qd = np.concatenate([qd[keep_old], d_new[keep_new]])
    qc = np.concatenate([cursor[keep_old], child_ptr[new[keep_new]]])
    return qn, qd, qc


def _nearest(qn, qd, eligible) -> tuple[int, float]:
    """Nearest eligible candidate, ties to the smallest node: (node, distance) or (-1, inf).

    ``eligible`` is a mask over nodes, None for all.
    """
    ok = np.ones(qn.shape[0], bool) if eligible is None else eligible[qn]
    if not ok.any():
        return -1, math.inf
    n, d = qn[ok], qd[ok]
    a = np.lexsort((n, d))[0]
    return int(n[a]), float(d[a])


class _Frontier:
    """Min-heap of (lower bound, node, distance to node) for best-first searches.

    A plain binary heap with the sift rules of the compiled kernels, so that
    entries with equal bounds pop in the same order there and here (``heapq``
    would break such ties differently).
    """

    def __init__(self) -> None:
        self.heap: list[tuple[float, int, float]] = []

    def __len__(self) -> int:
        return len(self.heap)

    def push(self, key: float, node: int, dist: float) -> None:
        """Add an entry: sift it up past every parent with a larger key."""
        h = self.heap
        h.append((key, node, dist))
        pos = len(h) - 1
        while pos > 0:
            up = (pos - 1) // 2
            if h[up][0] <= key:
                break
            h[pos] = h[up]
            pos = up
        h[pos] = (key, node, dist)

    def pop(self) -> tuple[float, int, float]:
        """Remove and return the entry with the smallest key."""
        h = self.heap
        top = h[0]
        last = h.pop()
        size = len(h)
        if size == 0:
            return top
        pos = 0
        while True:
            left = 2 * pos + 1
            if left >= size:
                break
            small = left
            if left + 1 < size and h[left + 1][0] < h[left][0]:
                small = left + 1
            if h[small][0] >= last[0]:
                break
            h[pos] = h[small]
            pos = small
        h[pos] = last
        return top


# ----------------------------------------------------------------------------
# construction


def _covering_search(points, level, radius, parent_dist, child_ptr, children, root, x):
    """Nearest node y with d(x, y) <= 2^level(y) ("covering" x), best-first.

    Nodes are expanded in increasing order of the lower bound
    ``d(x, p) - radius(p)`` on the distance to their descendants.
    Descendants of a node c have levels below level(c), so they can only
    cover x if d(x, c) - radius(c) <= 2^(level(c) - 1); together with the
    best covering distance so far this prunes like a 1-NN search. A child c
    is skipped without evaluating d(x, c) when the triangle-inequality bound
    ``|d(x, p) - d(p, c)| <= d(x, c)`` already rules out c and its subtree.

    Returns
    -------
    (node, distance, duplicate) : int, float, int
        ``node`` is -1 (distance inf) when nothing covers x; ``duplicate`` is
        a node at distance 0 from x, or -1.
    """
    root = int(root)
    d0 = _dist(x, points[root])
    if d0 == 0.0:
        return root, 0.0, root
    best, bestd = (root, d0) if d0 <= math.ldexp(1.0, int(level[root])) else (-1, math.inf)
    front = _Frontier()
    front.push(d0 - radius[root], root, d0)
    while front:
        lb, p, dp = front.pop()
        slack = PRUNE_RTOL * (dp + radius[p])
        if lb > bestd + slack:
            break  # every remaining subtree is farther than the best cover
        if lb > math.ldexp(1.0, int(level[p]) - 1) + slack:
            continue  # nothing below p is close enough to cover x
        kids = children[child_ptr[p] : child_ptr[p + 1]]
        rk = radius[kids]
        # skip children that the parent-distance bound rules out unevaluated
        gap = np.abs(dp - parent_dist[kids])
        reach = np.minimum(bestd, np.ldexp(1.0, level[kids]))
        keep = ~(gap - rk > reach + PRUNE_RTOL * (gap + rk + dp))
        kids, rk = kids[keep], rk[keep]
        dk = _diff_dists(x[None, :], points[kids])
        zero = np.flatnonzero(dk == 0.0)
        if zero.size:
            return int(kids[zero[0]]), 0.0, int(kids[zero[0]])
        covers = dk <= np.ldexp(1.0, level[kids])
        if covers.any():
            c, d = _nearest(kids[covers], dk[covers], None)
            if d < bestd or (d == bestd and c < best):
                best, bestd = c, d
        lim = np.minimum(bestd, np.ldexp(1.0, level[kids] - 1))
        grow = (rk > 0.0) & (dk - rk <= lim + PRUNE_RTOL * (dk + rk))
        for c, d, r in zip(kids[grow].tolist(), dk[grow].tolist(), rk[grow].tolist(), strict=True):
            front.push(d - r, c, d)
    return best, bestd, -1


def traverse_sparse(points, level, radius, parent_dist, child_ptr, children, root, X):
    """For each row of X: insertion level, parent node and duplicate node (-1 if none).

    The parent is the nearest node y with d(x, y) <= 2^level(y) (ties: the
    smaller index) and the level is ceil(log2 d(x, parent)) - 1, the lowest
    level that keeps separation (see doc/algorithm.md).

    Parameters
    ----------
    points, level, radius, parent_dist : ndarray
        Node coordinates, levels, subtree radii and distances to the parent.
    child_ptr, children : ndarray
        Children of each node in CSR form, levels descending.
    root : int
        The root node.
    X : ndarray (n, d)
        Points to place.

    Returns
    -------
    (level, parent, dup) : three int64 arrays of length ``len(X)``.
        A duplicate gets level 0 and parent -1; a point nothing covers gets
        level -1 and parent -1.
    """
    n = X.shape[0]
    out_level = np.zeros(n, np.int64)
    out_parent = np.full(n, -1, np.int64)
    out_dup = np.full(n, -1, np.int64)
    for i in range(n):
        best, bestd, dup = _covering_search(
            points, level, radius, parent_dist, child_ptr, children, root, X[i]
        )
        if dup >= 0:
            out_dup[i] = dup
        else:
            out_parent[i] = best
            out_level[i] = ceil_log2(bestd) - 1
    return out_level, out_parent, out_dup


def update_radii(points, parent, radius, nodes) -> None:
    """Raise the subtree radius of every ancestor of ``nodes`` (in place)."""
    node = np.asarray(nodes, np.int64)
    anc = parent[node]
    while node.size:  # one ancestor generation per pass
        live = anc >= 0
        node, anc = node[live], anc[live]
        np.maximum.at(radius, anc, _diff_dists(points[node], points[anc]))
        anc = parent[anc]


def find_parents(points, level, child_ptr, children, root, X, target, eligible):
    """For each row i of X: the nearest eligible node in C_target[i] within 2^target[i].

    Returns an int64 array, -1 where there is none. Non-eligible nodes are
    still used to navigate (they keep the old tree's geometry).
    """
    n = X.shape[0]
    out = np.full(n, -1, np.int64)
    eligible = np.asarray(eligible, bool)
    for i in range(n):
        x, t = X[i], int(target[i])
        if level[root] < t:
            continue
        qn, qc = np.array([root], np.int64), child_ptr[[root]].astype(np.int64)
        qd = _diff_dists(x[None, :], points[qn])
        while qn.shape[0] > 0:
            jn = _next_level(level, child_ptr, children, qn, qc)
            if jn is None or jn < t:
                break
            qn, qd, qc = _advance(points, level, child_ptr, children, x, qn, qd, qc, jn)
        par, m = _nearest(qn, qd, eligible)
        if par >= 0 and m <= math.ldexp(1.0, t):
            out[i] = par
    return out


def pair_distances(A, ia, B, ib):
    """Distances between rows ``A[ia[t]]`` and ``B[ib[t]]`` (float64)."""
    return _diff_dists(A[np.asarray(ia, np.int64)], B[np.asarray(ib, np.int64)])


def distances_to_point(A, x):
    """Distances from x to every row of A (float64)."""
    return _diff_dists(A, np.asarray(x)[None, :])


def _in_conflict(X, lev, i, j) -> np.ndarray:
    """Mask of the pairs (i[t], j[t]) with d(X[i], X[j]) <= 2^min(lev[i], lev[j])."""
    scale = np.ldexp(1.0, np.minimum(lev[i], lev[j]).astype(np.int64))
    return _diff_dists(X[i], X[j]) <= scale


def conflict_dense(X, lev):
    """All pairs i < j with d(X[i], X[j]) <= 2^min(lev[i], lev[j]), as (ei, ej) int64."""
    n = X.shape[0]
    ei, ej = [], []
    for i in range(n):
        j = np.arange(i + 1, n)
        j = j[_in_conflict(X, lev, np.full(j.shape[0], i), j)]
        ei.append(np.full(j.shape[0], i, np.int64))
        ej.append(j)
    none = np.empty(0, np.int64)
    return np.concatenate([*ei, none]), np.concatenate([*ej, none]).astype(np.int64)


def _grid_cells(Y: np.ndarray, side: float) -> np.ndarray:
    """Integer cell of every row of Y on a grid of side ``side`` (clamped as numba)."""
    cells = np.floor(np.asarray(Y, np.float64) / side)
    return np.clip(cells, -CELL_CLAMP, CELL_CLAMP).astype(np.int64)


def conflict_cells(X, lev, Y, y_rtol):
    """Conflict pairs found through a grid over an embedding Y of the points.

    Y (n, k) must satisfy |Y[i, t] - Y[j, t]| <= d(i, j) for every column t,
    up to a rounding error of ``y_rtol * |Y|``. A point of level a looks up
    the points of level >= a in the cells around its own on a grid of side
    2^a: one cell either way, widened by the rounding slack so no conflicting
    pair is missed; where the slack exceeds a cell, every point of level >= a
    is a candidate. Every candidate pair is then decided by the exact
    distance test.

    Returns
    -------
    (ei, ej) : int64 arrays
        Pairs (min(i, j), max(i, j)) of conflicting points, each once.
    """
    lev = np.asarray(lev, np.int64)
    Y = np.asarray(Y, np.float64)
    k = Y.shape[1]
    # every offset a widened look-up can need: lo + {0, 1, 2, 3} per column
    grid = np.array(np.meshgrid(*([np.arange(4)] * k), indexing="ij")).reshape(k, -1).T
    out_i, out_j = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    for a in np.unique(lev).tolist():
        side = math.ldexp(1.0, a)
        cells = _grid_cells(Y, side)
        targets = np.flatnonzero(lev >= a)
        sources = np.flatnonzero(lev == a)
        ys = Y[sources]
        delta = CELL_RTOL * side + y_rtol * (side + 2.0 * np.abs(ys))
        lo = _grid_cells(ys - delta, side) - 1
        hi = _grid_cells(ys + delta, side) + 1
        unresolved = np.any(hi - lo > 3, axis=1)
        # the cells each source looks at, one row per (source, offset)
        wanted = lo[~unresolved][:, None, :] + grid[None, :, :]
        inside = np.all(wanted <= hi[~unresolved][:, None, :], axis=2).reshape(-1)
        wanted = wanted.reshape(-1, k)[inside]
        asker = np.repeat(sources[~unresolved], grid.shape[0])[inside]
        # label cells so that equal rows of either array get the same label
        _, label = np.unique(
            np.concatenate([cells[targets], wanted]), axis=0, return_inverse=True
        )
        label = label.reshape(-1)
        t_label, w_label = label[: targets.shape[0]], label[targets.shape[0] :]
        # targets grouped by cell: each wanted cell is a range of ``by_cell``
        order = np.argsort(t_label, kind="stable")
        by_cell, sorted_label = targets[order], t_label[order]
        lo_pos = np.searchsorted(sorted_label, w_label, side="left")
        hi_pos = np.searchsorted(sorted_label, w_label, side="right")
        pos, owner = _ranges(lo_pos, hi_pos - lo_pos)
        i, j = asker[owner], by_cell[pos]
        # sources whose rounding slack exceeds a cell test every target
        far = sources[unresolved]
        i = np.concatenate([i, np.repeat(far, targets.shape[0])])
        j = np.concatenate([j, np.tile(targets, far.shape[0])])
        # pairs of two level-a points are looked up from both ends: keep one
        fresh = (j != i) & ~((lev[j] == a) & (j < i))
        i, j = i[fresh], j[fresh]
        hit = _in_conflict(X, lev, i, j)
        i, j = i[hit], j[hit]
        out_i.append(np.minimum(i, j))
        out_j.append(np.maximum(i, j))
    return np.concatenate(out_i), np.concatenate(out_j)


def batch_radii(points, parent, X, par):
    """Attachment CSR of batch points under their parents, and per-node batch radii.

    Returns (att_ptr, att_idx, bradius): the batch points under node v are
    ``att_idx[att_ptr[v]:att_ptr[v + 1]]``; ``bradius[v]`` is the largest
    distance from v to a batch point hanging in v's subtree (-1 if none).
    """
    n_nodes = parent.shape[0]
    par = np.asarray(par, np.int64)
    att_idx = np.argsort(par, kind="stable").astype(np.int64)
    att_ptr = np.zeros(n_nodes + 1, np.int64)
    np.cumsum(np.bincount(par, minlength=n_nodes), out=att_ptr[1:])
    bradius = np.full(n_nodes, -1.0)
    anc = par.copy()
    rows = np.arange(X.shape[0])
    while anc.size:
        d = _diff_dists(X[rows], points[anc])
        np.maximum.at(bradius, anc, d)
        up = parent[anc]
        keep = up >= 0
        rows, anc = rows[keep], up[keep]
    return att_ptr, att_idx, bradius


def conflict_tree(points, parent, child_ptr, children, root, X, lev, par):
    """Conflict pairs found by searching the tree the batch is about to join.

    Each batch point hangs under its parent; a node's batch radius bounds the
    distance to every batch point below it, so the search from x prunes every
    subtree whose lower bound exceeds 2^lev[x]. A pair is looked up from its
    lower-level end (ties: the smaller index) and decided by the exact test.
    """
    lev = np.asarray(lev, np.int64)
    att_ptr, att_idx, bradius = batch_radii(points, parent, X, par)
    out_i, out_j = [], []
    for x in range(X.shape[0]):
        r = math.ldexp(1.0, int(lev[x]))
        stack = [root] if bradius[root] >= 0 else []
        if stack:
            d0 = _dist(X[x], points[root])
            if d0 - bradius[root] > r + PRUNE_RTOL * (d0 + bradius[root]):
                stack = []
        while stack:
            v = stack.pop()
            ys = att_idx[att_ptr[v] : att_ptr[v + 1]]
            ys = ys[(lev[ys] > lev[x]) | ((lev[ys] == lev[x]) & (ys > x))]
            if ys.size:
                hit = ys[_diff_dists(X[ys], X[x]) <= r]
                out_i.append(np.minimum(hit, x))
                out_j.append(np.maximum(hit, x))
            ch = children[child_ptr[v] : child_ptr[v + 1]]
            ch = ch[bradius[ch] >= 0]
            if ch.size:
                d = _diff_dists(points[ch], X[x])
                br = bradius[ch]
                stack.extend(ch[d - br <= r + PRUNE_RTOL * (d + br)].tolist())
    if not out_i:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return (np.concatenate(out_i).astype(np.int64), np.concatenate(out_j).astype(np.int64))


def luby_mis(indptr, indices, priority):
    """Maximal independent set of a graph in CSR form (Luby's rounds).

    A vertex joins when its priority beats every undecided neighbour's; the
    neighbours of joined vertices drop out. Priorities must be distinct.
    Returns (bool mask, number of rounds).
    """
    n = indptr.shape[0] - 1
    src = np.repeat(np.arange(n), np.diff(indptr))
    dst = np.asarray(indices, np.int64)
    state = np.zeros(n, np.int8)  # 0 undecided, 1 in, 2 out
    rounds = 0
    while (state == 0).any():
        rounds += 1
        und = state == 0
        beaten = und[src] & und[dst] & (priority[dst] > priority[src])
        join = und & (np.bincount(src[beaten], minlength=n) == 0)
        state[join] = 1
        hit = np.zeros(n, bool)
        hit[dst[join[src]]] = True
        state[hit & (state == 0)] = 2
    return state == 1, rounds


def subtree_radii(points, parent):
    """Exact subtree radius: largest distance from each node to a descendant."""
    radius = np.zeros(parent.shape[0], np.float64)
    update_radii(points, parent, radius, np.arange(parent.shape[0]))
    return radius


# ----------------------------------------------------------------------------
# queries


class _KBest:
    """The k smallest (distance, id) pairs seen so far, ascending."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.d = np.empty(0, np.float64)
        self.i = np.empty(0, np.int64)

    def kth(self) -> float:
        """The current k-th distance, inf while fewer than k ids were seen."""
        return float(self.d[-1]) if self.d.shape[0] == self.k else math.inf

    def add(self, d: float, ids: np.ndarray) -> None:
        """Offer ``ids``, all at distance ``d``."""
        d_all = np.concatenate([self.d, np.full(ids.shape[0], d)])
        i_all = np.concatenate([self.i, ids.astype(np.int64)])
        order = np.lexsort((i_all, d_all))[: self.k]
        self.d, self.i = d_all[order], i_all[order]


def _knn_one(points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, q, k):
    """Best-first k-NN of one query: (k-best pairs, distance evaluations, pruned nodes).

    Subtrees are expanded in increasing order of the lower bound
    ``d(q, p) - radius(p)`` and the search stops once that bound exceeds the
    current k-th distance (with PRUNE_RTOL slack). Once k ids are known, a
    child c is skipped unevaluated when ``|d(q, p) - d(p, c)| - radius(c)``
    already exceeds the k-th distance. A node counts as pruned when its
    subtree is discarded unexpanded (skipped, not queued, or still queued
    when the search stops).
    """
    root = int(root)
    best = _KBest(k)
    d0 = _dist(q, points[root])
    best.add(d0, ids[id_ptr[root] : id_ptr[root + 1]])
    n_dist = 1
    n_pruned = 0
    front = _Frontier()
    if radius[root] > 0.0:
        front.push(d0 - radius[root], root, d0)
    while front:
        lb, p, dp = front.pop()
        if lb > best.kth() + PRUNE_RTOL * (dp + radius[p]):
            n_pruned += len(front) + 1
            break  # every remaining subtree is farther than the k-th neighbour
        for c in children[child_ptr[p] : child_ptr[p + 1]].tolist():
            rc = float(radius[c])
            kth = best.kth()
            gap = abs(dp - parent_dist[c])
            if kth < math.inf and gap - rc > kth + PRUNE_RTOL * (gap + rc + dp):
                n_pruned += 1
                continue  # d(q, c) >= gap: neither c nor its subtree can enter
            d = _dist(q, points[c])
            n_dist += 1
            if d <= kth:
                best.add(d, ids[id_ptr[c] : id_ptr[c + 1]])
            if rc > 0.0:
                if d - rc <= best.kth() + PRUNE_RTOL * (d + rc):
                    front.push(d - rc, c, d)
                else:
                    n_pruned += 1
    return best, n_dist, n_pruned


def knn(points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, Q, k):
    """Exact k nearest neighbours of every row of Q, best-first.

    Parameters
    ----------
    points, radius, parent_dist : ndarray
        Node coordinates, subtree radii and distances to the parent.
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
    (distances, ids, evaluations, pruned) : float64 (nq, k), int64 (nq, k),
        int64 (nq,), int64 (nq,)
        Rows ascending by (distance, id), padded with inf / -1; distance
        evaluations and pruned nodes per query.
    """
    nq = Q.shape[0]
    out_d = np.full((nq, k), np.inf)
    out_i = np.full((nq, k), -1, np.int64)
    evals = np.zeros(nq, np.int64)
    pruned = np.zeros(nq, np.int64)
    for qi in range(nq):
        best, evals[qi], pruned[qi] = _knn_one(
            points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, Q[qi], k
        )
        out_d[qi, : best.d.shape[0]] = best.d
        out_i[qi, : best.i.shape[0]] = best.i
    return out_d, out_i, evals, pruned


def _radius_one(points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, q, r):
    """(distances, ids) of every id within r of q, level by level through the tree."""
    d0 = float(_diff_dists(q, points[root]))
    found_d, found_i = [], []
    if d0 <= r:
        root_ids = ids[id_ptr[root] : id_ptr[root + 1]]
        found_d.append(np.full(root_ids.shape[0], d0))
        found_i.append(root_ids)
    frontier = np.array([root], np.int64)
    front_d = np.array([d0])
    if d0 - radius[root] > r + PRUNE_RTOL * (d0 + radius[root]):
        frontier = frontier[:0]
    while frontier.size:
        pos, owner = _csr_gather(child_ptr, frontier)
        kids = children[pos]
        # |d(q, p) - d(p, c)| <= d(q, c): drop children the parent bound excludes
        dp = front_d[owner]
        gap = np.abs(dp - parent_dist[kids])
        rk = radius[kids]
        kids = kids[gap - rk <= r + PRUNE_RTOL * (gap + rk + dp)]
        d = _diff_dists(q[None, :], points[kids])
        near = d <= r
        pos, owner = _csr_gather(id_ptr, kids[near])
        found_d.append(d[near][owner])
        found_i.append(ids[pos])
        rk = radius[kids]
        go = (rk > 0.0) & (d - rk <= r + PRUNE_RTOL * (d + rk))
        frontier, front_d = kids[go], d[go]
    if not found_d:
        return np.empty(0, np.float64), np.empty(0, np.int64)
    return np.concatenate(found_d), np.concatenate(found_i).astype(np.int64)


def radius_count(points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, Q, r):
    """Number of ids within r[i] of each row Q[i] (int64)."""
    counts = np.zeros(Q.shape[0], np.int64)
    for i in range(Q.shape[0]):
        d, _ = _radius_one(points, radius, parent_dist, child_ptr, children, id_ptr, ids, root,
                           Q[i], r[i])
        counts[i] = d.shape[0]
    return counts


def radius_fill(points, radius, parent_dist, child_ptr, children, id_ptr, ids, root, Q, r,
                offsets):
    """Distances and ids within r[i] of each Q[i], written at offsets[i]:offsets[i+1]."""
    out_d = np.empty(offsets[-1], np.float64)
    out_i = np.empty(offsets[-1], np.int64)
    for i in range(Q.shape[0]):
        lo, hi = offsets[i], offsets[i + 1]
        if hi == lo:
            continue
        d, found = _radius_one(points, radius, parent_dist, child_ptr, children, id_ptr, ids, root,
                               Q[i], r[i])
        out_d[lo:hi] = d[: hi - lo]
        out_i[lo:hi] = found[: hi - lo]
    return out_d, out_i
