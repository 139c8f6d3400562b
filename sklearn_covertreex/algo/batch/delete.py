"""Batch deletion.

Ids are removed from their nodes; a node left without ids is removed. Its
children are orphans. Orphans are handled level by level, highest first:
each looks for a new parent in the surviving tree (a node of higher level
within ``2**(level + 1)``, found by the same descent as insertion, through
the old tree's geometry); an orphan with no such parent is dissolved: its
points are set aside and its own children become orphans. The dissolved
points are then batch-inserted. See ``doc/algorithm.md``.
"""

from __future__ import annotations

import numpy as np

from ...core.tree import TreeArrays
from ..view import Context
from .builder import TreeBuilder, empty_tree
from .insert import insert_rows
from .stats import BuildStats


def delete_ids(ctx: Context, tree: TreeArrays, ids: np.ndarray) -> TreeArrays:
    """Return a new tree without the dataset ``ids`` (validated by the caller)."""
    with ctx.backend.threads(ctx.n_threads):
        return _delete(ctx, tree, ids)


def _delete(ctx: Context, tree: TreeArrays, ids: np.ndarray) -> TreeArrays:
    n = tree.n_nodes
    node_of = tree.node_of_id()
    counts = np.diff(tree.id_ptr).copy()
    np.subtract.at(counts, node_of[ids], 1)
    removed = counts == 0
    id_nodes = np.repeat(np.arange(n), np.diff(tree.id_ptr))
    keep_id = np.ones(tree.ids.shape[0], dtype=bool)
    keep_id[np.isin(tree.ids, ids)] = False
    if np.all(removed):
        return empty_tree(tree.metric, tree.metric_params, tree.n_ids_total)

    parent = tree.parent.copy()
    level = tree.level.copy()
    dissolved = np.zeros(n, dtype=bool)
    root = tree.root
    if removed[root]:
        # the highest surviving node becomes the root, lifted to the old root level
        alive = np.flatnonzero(~removed)
        new_root = int(alive[np.argmax(level[alive])])
        parent[new_root] = -1
        level[new_root] = tree.level[root]
        root = new_root

    gone = removed.copy()
    orphan = (~gone) & (parent >= 0) & gone[np.maximum(parent, 0)]
    while np.any(orphan):
        lv = level[orphan].max()
        group = np.flatnonzero(orphan & (level == lv))
        eligible = ~(gone | dissolved)
        new_par = np.asarray(ctx.backend.find_parents(
        ctx.kernel_metric, tree.points, tree.level, tree.child_ptr, tree.children, tree.root,
            np.ascontiguousarray(tree.points[group]), np.full(group.size, lv + 1, np.int64),
            eligible,
        ))
        if root != tree.root:
            # the lifted root is a candidate the old geometry does not list at its new level
            miss = new_par < 0
            if np.any(miss):
                d = ctx.backend.distances_to_point(
        ctx.kernel_metric, np.ascontiguousarray(tree.points[group[miss]]), tree.points[root])
                ok = d <= np.ldexp(1.0, lv + 1)
                new_par[np.flatnonzero(miss)[ok]] = root
        found = new_par >= 0
        parent[group[found]] = new_par[found]
        lost = group[~found]
        dissolved[lost] = True
        orphan[group] = False
        gone_now = gone | dissolved
        orphan = (~gone_now) & (parent >= 0) & gone_now[np.maximum(parent, 0)] & (
            np.arange(n) != root)

    keep = ~(removed | dissolved)
    new_index = np.full(n, -1, dtype=np.int64)
    new_index[keep] = np.arange(int(keep.sum()))
    kept = np.flatnonzero(keep)
    builder = TreeBuilder(tree.points.shape[1:], kept.size + int(dissolved.sum()) + 1,
                          tree.n_ids_total)
    new_parent = np.where(parent[kept] >= 0, new_index[np.maximum(parent[kept], 0)], -1)
    has_parent = np.flatnonzero(new_parent >= 0)
    parent_dist = np.zeros(kept.size)
    parent_dist[has_parent] = ctx.backend.pair_distances(
        ctx.kernel_metric, tree.points, kept[has_parent], tree.points, kept[new_parent[has_parent]])
    builder._append(tree.points[kept], level[kept], new_parent, None, parent_dist)
    builder.radius[: kept.size] = ctx.backend.subtree_radii(
        ctx.kernel_metric, builder.points[: kept.size], new_parent)
    builder.root = int(new_index[root])
    own = keep_id & keep[id_nodes]
    builder.add_ids(new_index[id_nodes[own]], tree.ids[own])

    # reinsert the points of dissolved nodes (every surviving id of them)
    back = keep_id & dissolved[id_nodes]
    if np.any(back):
        X = np.ascontiguousarray(tree.points[id_nodes[back]])
        insert_rows(ctx, builder, X, tree.ids[back], BuildStats())
    return builder.finalize(ctx, None)
