"""A tree's arrays padded to bucket sizes, as the jitted searches take them.

Node ``pad`` (= the number of nodes) is a dummy with no children, no ids
and radius 0: fixed-capacity structures use it for their empty slots.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..frozen_cache import made_once
from ._common import coarse_bucket, pad_to


class PaddedTree(NamedTuple):
    """Padded tree arrays (jax arrays once :func:`padded_tree` has moved them)."""

    points: Any
    radius: Any
    level: Any
    child_ptr: Any
    children: Any
    id_ptr: Any
    id_count: Any
    ids: Any
    root: Any
    pad: Any


def _ptr(ptr: np.ndarray, n: int) -> np.ndarray:
    ptr = np.asarray(ptr, np.int64)
    return np.concatenate([ptr, np.full(n + 1 - ptr.shape[0], ptr[-1], np.int64)])


def padded_tree(jnp: Any, dtype: np.dtype, points, radius, child_ptr, children, id_ptr=None,
                ids=None, root=0, level=None) -> PaddedTree:
    """The tree's arrays padded to powers of two and moved to the default jax device.

    A finished tree's arrays are padded and moved once, and the copy reused
    while they live (:func:`~sklearn_covertreex.backends.frozen_cache.made_once`).
    """
    return made_once(
        (points, radius, child_ptr, children, id_ptr, ids, level),
        ("jax", np.dtype(dtype).str, int(root)),
        lambda: _padded_tree(jnp, dtype, points, radius, child_ptr, children, id_ptr, ids,
                             root, level))


def _padded_tree(jnp: Any, dtype: np.dtype, points, radius, child_ptr, children, id_ptr,
                 ids, root, level) -> PaddedTree:
    n = int(np.shape(points)[0])
    nb = coarse_bucket(n + 1)
    id_ptr = np.zeros(n + 1, np.int64) if id_ptr is None else np.asarray(id_ptr, np.int64)
    ids = np.zeros(0, np.int64) if ids is None else np.asarray(ids, np.int64)
    level = np.zeros(n, np.int64) if level is None else np.asarray(level, np.int64)
    children = np.asarray(children, np.int64)
    host = PaddedTree(
        pad_to(np.asarray(points, dtype), nb),
        pad_to(np.asarray(radius, np.float64), nb),
        pad_to(level, nb),
        _ptr(child_ptr, nb),
        pad_to(children, max(nb, coarse_bucket(children.shape[0]))),  # usually nb: one per non-root
        _ptr(id_ptr, nb),
        pad_to(np.diff(id_ptr), nb),
        pad_to(ids, coarse_bucket(ids.shape[0])),
        np.int64(root),
        np.int64(n),
    )
    return PaddedTree(*(jnp.asarray(a) for a in host))
