"""Independent verification of every structural invariant of a tree."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from .tree import TreeArrays


class TreeInvariantError(AssertionError):
    """Raised by :func:`check_invariants` when a tree is not valid."""


def _fail(message: str) -> None:
    raise TreeInvariantError(message)


def _pair_dist(tree: TreeArrays, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from ..metrics import get_metric

    return get_metric(tree.metric).pairwise_rows(tree.metric_params, tree.points, a, b)


def _atol2(tree: TreeArrays, a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """Rounding slack on squared distances ``d(a, b)^2`` computed two ways (0: none)."""
    from ..metrics import get_metric

    slack = get_metric(tree.metric).rounding_atol2
    return 0.0 if slack is None else slack(tree.metric_params, tree.points, a, b)


def _exceeds(d: np.ndarray, bound: np.ndarray, atol2: np.ndarray | float) -> np.ndarray:
    """``d > bound``, or with a rounding slack ``d^2 > bound^2 + atol2``."""
    if np.isscalar(atol2) and atol2 == 0.0:
        return d > bound
    return d**2 > bound**2 + atol2


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol2: np.ndarray | float) -> bool:
    return bool(np.all(np.abs(a * a - b * b) <= 2 * rtol * np.maximum(a, b) ** 2 + atol2))


def check_invariants(tree: TreeArrays | Any, *, rtol: float = 1e-9) -> None:
    """Verify a compressed cover tree; raise :class:`TreeInvariantError` if invalid.

    Checks, with a numpy implementation independent of the builders:

    * array shapes and the child / id CSR layouts agree with ``parent``;
    * exactly one root, whose level is above every other node's;
    * **cover**: ``level(parent(v)) > level(v)`` and
      ``d(v, parent(v)) <= 2**(level(v) + 1)``; ``parent_dist`` is exact;
    * **separation**: distinct nodes ``u, v`` satisfy
      ``d(u, v) > 2**min(level(u), level(v))``;
    * ``radius[v]`` equals the largest distance from ``v`` to a descendant;
    * where ``subtree_end[v]`` claims a run of nodes, the descendants of
      ``v`` are exactly the nodes ``children[child_ptr[v]] .. subtree_end[v] - 1``;
    * every dataset id is stored once and lies in ``[0, n_ids_total)``.

    Parameters
    ----------
    tree : TreeArrays or CoverTree
        The tree to check (a :class:`~sklearn_covertreex.CoverTree` is
        checked through its ``arrays``).
    rtol : float
        Relative tolerance for comparing stored distances with recomputed ones.
    """
    tree = getattr(tree, "arrays", tree)
    n = tree.n_nodes
    if n == 0:
        if tree.ids.shape[0] != 0 or tree.root != -1:
            _fail("empty tree must have no ids and root -1")
        return
    for name in ("level", "parent", "parent_dist", "radius"):
        if getattr(tree, name).shape != (n,):
            _fail(f"{name} has shape {getattr(tree, name).shape}, expected ({n},)")
    if tree.points.ndim != 2 or tree.points.shape[0] != n:
        _fail("points must be (n_nodes, row width)")
    if tree.points.shape[1] != int(tree.metric_params[0]):
        _fail("rows are not as wide as metric_params[0] says")
    if not np.all(np.isfinite(tree.points)):
        _fail("points must be finite")
    parent, level = tree.parent, tree.level

    roots = np.flatnonzero(parent == -1)
    if roots.shape[0] != 1 or roots[0] != tree.root:
        _fail(f"expected exactly one root at {tree.root}, found {roots.tolist()}")
    others = np.arange(n) != tree.root
    if np.any((parent[others] < 0) | (parent[others] >= n)):
        _fail("parent index out of range")
    if n > 1 and not level[tree.root] > level[others].max():
        _fail("root level must be above every other node's level")

    # Child CSR matches parent, children sorted by level (highest first).
    if tree.child_ptr.shape != (n + 1,) or tree.child_ptr[0] != 0:
        _fail("child_ptr must have n_nodes + 1 entries starting at 0")
    if tree.child_ptr[-1] != tree.children.shape[0] or tree.children.shape[0] != n - 1:
        _fail("children must list every non-root node once")
    counts = np.diff(tree.child_ptr)
    if np.any(counts < 0):
        _fail("child_ptr must be non-decreasing")
    owner = np.repeat(np.arange(n), counts)
    if not np.array_equal(parent[tree.children], owner):
        _fail("children CSR disagrees with parent array")
    if np.unique(tree.children).shape[0] != n - 1:
        _fail("a node is listed twice as a child")
    same = owner[1:] == owner[:-1]
    if np.any(level[tree.children][1:][same] > level[tree.children][:-1][same]):
        _fail("children must be sorted by level, highest first")

    # Cover.
    idx = np.flatnonzero(others)
    if np.any(level[parent[idx]] <= level[idx]):
        _fail("a parent's level must exceed its child's")
    d_par = _pair_dist(tree, idx, parent[idx])
    bound = np.ldexp(1.0, (level[idx] + 1).astype(np.int64))
    atol2 = _atol2(tree, idx, parent[idx])
    bad = _exceeds(d_par, bound, atol2)
    if np.any(bad):
        v = idx[np.argmax(bad)]
        _fail(f"cover violated at node {v}: d={d_par[np.argmax(bad)]!r} > 2^{level[v] + 1}")
    if not _close(tree.parent_dist[idx], d_par, rtol, atol2):
        _fail("parent_dist disagrees with recomputed distances")

    _check_separation(tree)
    _check_radius(tree, rtol)
    _check_subtree_runs(tree)

    # Ids.
    if tree.id_ptr.shape != (n + 1,) or tree.id_ptr[0] != 0:
        _fail("id_ptr must have n_nodes + 1 entries starting at 0")
    if np.any(np.diff(tree.id_ptr) < 1):
        _fail("every node must hold at least one dataset id")
    if tree.id_ptr[-1] != tree.ids.shape[0]:
        _fail("id_ptr[-1] must equal the number of ids")
    if tree.ids.size and (tree.ids.min() < 0 or tree.ids.max() >= tree.n_ids_total):
        _fail("dataset id out of range")
    if np.unique(tree.ids).shape[0] != tree.ids.shape[0]:
        _fail("a dataset id is stored twice")


def _check_separation(tree: TreeArrays) -> None:
    level = tree.level
    n = tree.n_nodes
    scale = np.ldexp(1.0, level.astype(np.int64))
    if tree.metric == "euclidean":
        # A violation d(u, v) <= 2**min(l_u, l_v) implies d(u, v) <= 2**l_u.
        kd = cKDTree(tree.points)
        for u in range(n):
            near = np.asarray(kd.query_ball_point(tree.points[u], scale[u] * (1 + 1e-12)))
            near = near[near != u]
            if near.size == 0:
                continue
            d = _pair_dist(tree, np.full(near.shape, u), near)
            bad = d <= np.minimum(scale[u], scale[near])
            if np.any(bad):
                v = near[np.argmax(bad)]
                _fail(f"separation violated by nodes {u} and {v} (d={d[np.argmax(bad)]!r})")
        return
    block = 512
    for start in range(0, n, block):
        rows = np.arange(start, min(n, start + block))
        a = np.repeat(rows, n)
        b = np.tile(np.arange(n), rows.shape[0])
        keep = a < b
        a, b = a[keep], b[keep]
        d = _pair_dist(tree, a, b)
        bad = ~_exceeds(d, np.minimum(scale[a], scale[b]), -_atol2(tree, a, b))
        if np.any(bad):
            i = np.argmax(bad)
            _fail(f"separation violated by nodes {a[i]} and {b[i]} (d={d[i]!r})")


def _check_radius(tree: TreeArrays, rtol: float) -> None:
    n = tree.n_nodes
    expected = np.zeros(n)
    slack = np.zeros(n)
    nodes = np.arange(n)
    anc = tree.parent.copy()
    while True:
        live = anc >= 0
        if not np.any(live):
            break
        v, a = nodes[live], anc[live]
        d = _pair_dist(tree, v, a)
        np.maximum.at(expected, a, d)
        np.maximum.at(slack, a, np.broadcast_to(_atol2(tree, v, a), v.shape))
        anc = np.where(live, tree.parent[np.maximum(anc, 0)], -1)
    if not _close(tree.radius, expected, rtol, slack):
        worst = int(np.argmax(np.abs(tree.radius - expected)))
        _fail(
            f"radius of node {worst} is {tree.radius[worst]!r}, "
            f"expected {expected[worst]!r}"
        )


def _check_subtree_runs(tree: TreeArrays) -> None:
    """Every run ``subtree_end`` claims holds exactly the node's descendants."""
    n = tree.n_nodes
    count = np.zeros(n, np.int64)
    lowest = np.full(n, n, np.int64)
    highest = np.full(n, -1, np.int64)
    nodes = np.arange(n)
    anc = tree.parent.astype(np.int64)
    while True:  # every (descendant, ancestor) pair, one generation at a time
        live = anc >= 0
        if not np.any(live):
            break
        v, a = nodes[live], anc[live]
        np.add.at(count, a, 1)
        np.minimum.at(lowest, a, v)
        np.maximum.at(highest, a, v)
        anc = np.where(live, tree.parent[np.maximum(anc, 0)], -1)
    end = np.asarray(tree.subtree_end, np.int64)
    if end.shape != (n,):
        _fail(f"subtree_end has shape {end.shape}, expected ({n},)")
    claimed = np.flatnonzero(end >= 0)
    if np.any(tree.child_ptr[claimed + 1] == tree.child_ptr[claimed]):
        _fail("subtree_end claims a run of descendants for a leaf")
    first = tree.children[tree.child_ptr[claimed]]
    bad = ((lowest[claimed] != first) | (highest[claimed] != end[claimed] - 1)
           | (count[claimed] != end[claimed] - first))
    if np.any(bad):
        v = int(claimed[np.argmax(bad)])
        _fail(f"subtree_end[{v}] = {end[v]} does not end a run of exactly its descendants")
