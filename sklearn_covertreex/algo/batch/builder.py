"""A private, growable tree under construction.

Insertion and deletion copy the input tree's arrays into a builder, work on
it, and freeze the result into a new :class:`TreeArrays`; the input tree is
never touched (persistence by copy-on-write at the operation boundary).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from ...core.tree import LEVEL_DTYPE, TreeArrays, index_dtype
from ..view import Context, TreeView, child_csr, child_offsets


class TreeBuilder:
    """Growable node arrays plus (node, id) pairs."""

    def __init__(self, row_shape: int | tuple[int, ...], capacity: int,
                 n_ids_total: int = 0) -> None:
        capacity = max(1, capacity)
        row_shape = (row_shape,) if isinstance(row_shape, int) else tuple(row_shape)
        self._point_rows: np.ndarray | None = None
        self.points = np.empty((capacity, *row_shape), dtype=np.float64)
        self.level = np.empty(capacity, dtype=np.int64)
        self.parent = np.empty(capacity, dtype=np.int64)
        self.radius = np.empty(capacity, dtype=np.float64)
        self.parent_dist = np.empty(capacity, dtype=np.float64)
        self.n = 0
        self.root = -1
        self.n_ids_total = n_ids_total
        self._id_nodes: list[np.ndarray] = []
        self._id_values: list[np.ndarray] = []
        self._view: TreeView | None = None

    @property
    def points(self) -> np.ndarray:
        """The nodes' rows (node ``v``'s is ``points[v]``)."""
        if self._point_rows is not None:  # a deferred gather (see fill): made now
            self._points = np.take(self._points, self._point_rows, axis=0)
            self._point_rows = None
        return self._points

    @points.setter
    def points(self, value: np.ndarray | None) -> None:
        self._points = value
        self._point_rows = None

    @classmethod
    def from_tree(cls, tree: TreeArrays, extra: int) -> TreeBuilder:
        """A builder holding a copy of ``tree`` with room for ``extra`` more nodes."""
        b = cls(tree.points.shape[1:], tree.n_nodes + extra, tree.n_ids_total)
        b._append(tree.points, tree.level, tree.parent, tree.radius, tree.parent_dist)
        b.root = tree.root
        b._id_nodes.append(np.repeat(np.arange(tree.n_nodes), np.diff(tree.id_ptr)))
        b._id_values.append(np.array(tree.ids, dtype=np.int64))
        return b

    def _append(self, points: np.ndarray, level: np.ndarray, parent: np.ndarray,
                radius: np.ndarray | None = None,
                parent_dist: np.ndarray | None = None) -> np.ndarray:
        """Append nodes; ``radius`` defaults to 0 (leaves), ``parent_dist`` to 0."""
        m = points.shape[0]
        need = self.n + m
        if need > self.level.shape[0]:
            cap = max(need, 2 * self.level.shape[0])
            for name in ("points", "level", "parent", "radius", "parent_dist"):
                old = getattr(self, name)
                new = np.empty((cap,) + old.shape[1:], dtype=old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        self.points[self.n : need] = points
        self.level[self.n : need] = level
        self.parent[self.n : need] = parent
        self.radius[self.n : need] = 0.0 if radius is None else radius
        self.parent_dist[self.n : need] = 0.0 if parent_dist is None else parent_dist
        new_nodes = np.arange(self.n, need, dtype=np.int64)
        self.n = need
        self._view = None
        return new_nodes

    def fill(self, points: np.ndarray, level: np.ndarray, parent: np.ndarray,
             radius: np.ndarray, parent_dist: np.ndarray, root: int,
             rows: np.ndarray | None = None) -> None:
        """Give an empty builder a whole tree's nodes at once (ids are added separately).

        The builder takes the arrays over without copying them (float64 and
        integer arrays of any width are used as they are): the caller must
        not use them afterwards. ``points`` itself is only read: node ``v``'s
        row is ``points[rows[v]]`` (by default ``points[v]``), gathered
        once, when :meth:`finalize` renumbers the nodes (or when
        :attr:`points` is read first), so a whole construction makes one
        copy of the rows.
        """
        if self.n:
            raise ValueError("fill needs an empty builder")
        self.points = np.asarray(points, dtype=np.float64)
        self._point_rows = None if rows is None else _integers(rows)
        self.level = _integers(level)
        self.parent = _integers(parent)
        self.radius = np.asarray(radius, dtype=np.float64)
        self.parent_dist = np.asarray(parent_dist, dtype=np.float64)
        self.n = self.level.shape[0]
        self.root = int(root)
        self._view = None

    def add_root(self, point: np.ndarray, level: int, ident: int) -> None:
        """Start an empty tree with one root."""
        nodes = self._append(point[None, :], np.array([level]), np.array([-1]))
        self.root = int(nodes[0])
        self.add_ids(nodes, np.array([ident]))

    def add_nodes(
        self, ctx: Context, points: np.ndarray, level: np.ndarray, parent: np.ndarray,
        ids: np.ndarray,
    ) -> np.ndarray:
        """Append new leaves (one dataset id each), update ancestor radii; return nodes."""
        parent_dist = ctx.backend.pair_distances(ctx.kernel_metric, points,
                                                 np.arange(points.shape[0]), self.points, parent)
        nodes = self._append(points, level, parent, None, parent_dist)
        ctx.backend.update_radii(ctx.kernel_metric, self.points, self.parent, self.radius, nodes)
        self.add_ids(nodes, ids)
        return nodes

    def add_ids(self, nodes: np.ndarray, ids: np.ndarray) -> None:
        """Store dataset ids on existing nodes (exact duplicates)."""
        self._id_nodes.append(_integers(nodes))
        self._id_values.append(_integers(ids))

    def raise_root(self, level: int) -> None:
        """Lift the root's level (always valid: the root is alone above the others)."""
        if level > self.level[self.root]:
            self.level[self.root] = level
            self._view = None

    def relayout(self) -> None:
        """Renumber nodes in :func:`block_order` (children consecutive) for memory locality."""
        n = self.n
        if n < 2:
            return
        child_ptr, children = child_csr(self.parent[:n], self.level[:n])
        order = block_order(child_ptr, children, self.root)
        new_index = np.empty(n, dtype=np.int64)
        new_index[order] = np.arange(n)
        for name in ("points", "level", "radius", "parent_dist"):
            arr = getattr(self, name)
            arr[:n] = arr[:n][order]
        old_parent = self.parent[:n][order]
        self.parent[:n] = np.where(old_parent >= 0, new_index[np.maximum(old_parent, 0)], -1)
        self._id_nodes = [new_index[np.concatenate(self._id_nodes)]] if self._id_nodes else []
        self._id_values = [np.concatenate(self._id_values)] if self._id_values else []
        self.root = int(new_index[self.root])
        self._view = None

    def view(self) -> TreeView:
        """Current points, levels and child CSR (rebuilt after every change)."""
        if self._view is None:
            n = self.n
            child_ptr, children = child_csr(self.parent[:n], self.level[:n])
            self._view = TreeView(self.points[:n], self.level[:n], self.parent[:n],
                                  self.radius[:n], self.parent_dist[:n], child_ptr, children,
                                  self.root)
        return self._view

    def finalize(self, ctx: Context, diagnostics: dict[str, Any] | None) -> TreeArrays:
        """Freeze into a new :class:`TreeArrays`, consuming the builder.

        Nodes are renumbered in :func:`block_order`: the children of each
        node are consecutive (sorted by level, highest first), so a query
        reads the points of a node's children from one contiguous block, and
        all descendants of a node are one run of nodes, so a query can scan
        a small subtree's rows in one pass. Each of
        the builder's arrays is released as soon as its renumbered copy
        exists (integer ones narrowed to the tree's dtypes), so the peak
        holds about one array more than the tree.
        """
        n = self.n
        index = index_dtype(max(n, int(self.n_ids_total)) + 1)
        child_ptr, children = child_csr(self.parent[:n], self.level[:n])
        order = block_order(child_ptr, children, self.root)
        del child_ptr, children
        new_index = np.empty(n, dtype=index)
        new_index[order] = np.arange(n, dtype=index)
        moved = {}
        narrow = {"level": LEVEL_DTYPE, "parent": index}
        rows = order if self._point_rows is None else self._point_rows[order]
        moved["points"] = take_rows(self._points, rows)
        self.points = None
        del rows
        for name in ("level", "radius", "parent_dist", "parent"):
            # each renumbered copy replaces its array at once
            taken = take_rows(getattr(self, name)[:n], order)
            setattr(self, name, None)
            moved[name] = taken.astype(narrow.get(name, taken.dtype), copy=False)
            del taken
        del order
        parent = moved["parent"]
        nonroot = parent >= 0
        parent[nonroot] = new_index[parent[nonroot]]
        del nonroot
        child_ptr, children = _block_children(parent)
        id_nodes = new_index[np.concatenate(self._id_nodes)] if self._id_nodes else \
            np.empty(0, index)
        self._id_nodes = []
        root = int(new_index[self.root])
        del new_index
        id_values = np.concatenate(self._id_values).astype(index, copy=False) \
            if self._id_values else np.empty(0, index)
        self._id_values = []
        counts = np.bincount(id_nodes, minlength=n)
        if id_nodes.size == n and np.all(counts == 1):  # one id per node: no sort needed
            ids = np.empty(n, dtype=index)
            ids[id_nodes] = id_values
        else:
            ids = id_values[np.lexsort((id_values, id_nodes))]
        del id_values, id_nodes
        id_ptr = np.zeros(n + 1, dtype=index)
        np.cumsum(counts, out=id_ptr[1:])
        del counts
        self.n, self.root, self._view = 0, -1, None
        return TreeArrays(
            points=moved["points"], level=moved["level"], parent=parent,
            parent_dist=moved["parent_dist"], radius=moved["radius"],
            child_ptr=child_ptr, children=children, id_ptr=id_ptr, ids=ids,
            root=root, n_ids_total=int(self.n_ids_total),
            metric=ctx.metric.name, metric_params=ctx.params, diagnostics=diagnostics,
        )


def take_rows(a: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``a[rows]`` (rows of a 1-D or 2-D array) without converting ``rows`` to intp.

    ``np.take`` makes an intp copy of int32 indices first (8 bytes a row
    on top of the result); this gather reads them as they are.
    """
    width = int(np.prod(a.shape[1:]))
    out = np.empty((rows.shape[0],) + a.shape[1:], a.dtype)
    _gather_rows(a.reshape(a.shape[0], width), rows, out.reshape(rows.shape[0], width))
    return out


@njit(cache=True, nogil=True)
def _gather_rows(a, rows, out):
    for i in range(rows.shape[0]):
        out[i] = a[rows[i]]


def _integers(a: np.ndarray) -> np.ndarray:
    """``a`` as it is when it is an integer array, else as int64."""
    a = np.asarray(a)
    return a if a.dtype.kind == "i" else a.astype(np.int64)


def _block_children(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The children CSR of nodes numbered in :func:`block_order`.

    That numbering places each node's children consecutively in their CSR
    order (level descending), so listing every node under its parent in
    index order is the CSR: no sort needed.
    """
    child_ptr = child_offsets(parent)
    return child_ptr, _children_in_index_order(parent, child_ptr)


@njit(cache=True)
def _children_in_index_order(parent, child_ptr):
    n = parent.shape[0]
    children = np.empty(child_ptr[n], parent.dtype)
    fill = child_ptr[:n].copy()
    for v in range(n):
        if parent[v] >= 0:
            children[fill[parent[v]]] = v
            fill[parent[v]] += 1
    return children


def block_order(child_ptr: np.ndarray, children: np.ndarray, root: int) -> np.ndarray:
    """Nodes in *block order* from ``root``: the tree's numbering once it is finished.

    The root comes first; every node, once placed, has its children placed
    as one block (in CSR order, highest level first), and then the children
    that have children of their own are handled in that order, depth first.
    So each node's children are consecutive, every node comes after its
    parent, and the descendants of a node are exactly the nodes from its
    first child to the end of its last descendant's block: one run (see
    :mod:`sklearn_covertreex.core.blocks`).
    """
    return _block_order(np.ascontiguousarray(child_ptr), np.ascontiguousarray(children),
                        int(root))


@njit(cache=True)
def _block_order(child_ptr, children, root):
    n = child_ptr.shape[0] - 1
    order = np.empty(n, children.dtype)
    order[0] = root
    placed = 1
    stack = np.empty(n, children.dtype)  # placed nodes whose children are still to place
    stack[0] = root
    top = 1
    while top > 0:
        top -= 1
        v = stack[top]
        for t in range(child_ptr[v], child_ptr[v + 1]):
            order[placed] = children[t]
            placed += 1
        for t in range(child_ptr[v + 1] - 1, child_ptr[v] - 1, -1):  # first child on top
            c = children[t]
            if child_ptr[c + 1] > child_ptr[c]:
                stack[top] = c
                top += 1
    return order


def empty_tree(metric_name: str, params: tuple[float, ...], n_ids_total: int = 0) -> TreeArrays:
    """A tree with no nodes, for rows of the metric's parameters (``params[0]``: row width)."""
    z = np.empty(0, dtype=np.int64)
    return TreeArrays(
        points=np.empty((0, int(params[0]))), level=z, parent=z, parent_dist=np.empty(0),
        radius=np.empty(0), child_ptr=np.zeros(1, np.int64), children=z,
        id_ptr=np.zeros(1, np.int64), ids=z, root=-1, n_ids_total=n_ids_total,
        metric=metric_name, metric_params=tuple(params),
    )
