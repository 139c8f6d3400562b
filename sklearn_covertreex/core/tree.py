"""The compressed cover tree as a bundle of flat, read-only numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from .blocks import subtree_ends

FORMAT_VERSION = 3

#: dtype of the node levels: float64 exponents span -1074..1024, and a level
#: is at most one above the largest one.
LEVEL_DTYPE = np.dtype(np.int32)

#: Integer fields of a tree that hold node positions or dataset ids.
INDEX_FIELDS = ("parent", "child_ptr", "children", "id_ptr", "ids")


def index_dtype(count: int) -> np.dtype:
    """The narrowest of int32 and int64 that holds node positions and ids below ``count``.

    Trees store their node and id arrays in it: int32 up to about two
    billion, which halves those arrays (on a million 2-D rows the tree went
    from 76 to 53 MiB).

    Parameters
    ----------
    count : int
        One more than the largest value to hold (-1 must fit too).

    Returns
    -------
    numpy.dtype
    """
    return np.dtype(np.int32) if count < np.iinfo(np.int32).max else np.dtype(np.int64)

#: Metrics whose rows changed layout between format versions 1 and 2.
_V1_RESIDUAL = "residual_correlation"


def _frozen(a: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=dtype)
    if a.flags.writeable and a.flags.owndata:
        a.flags.writeable = False
    elif a.flags.writeable:
        a = a.copy()
        a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class TreeArrays:
    """Flat-array storage of a compressed cover tree (base 2).

    Every distinct point is one node. Node ``v`` has coordinates
    ``points[v]``, integer ``level[v]``, parent ``parent[v]`` (-1 for the
    root), distance to its parent ``parent_dist[v]`` and exact subtree radius
    ``radius[v]`` (largest distance from ``v`` to any descendant). Children
    of ``v`` are ``children[child_ptr[v]:child_ptr[v + 1]]``, sorted by level,
    highest first. The dataset ids stored at ``v`` (one, or several for exact
    duplicates) are ``ids[id_ptr[v]:id_ptr[v + 1]]``.

    Rows are stored as the metric ``metric`` computes distances on them, with
    the parameter vector ``metric_params`` (``metric_params[0]`` is the row
    width; see :mod:`sklearn_covertreex.metrics`), multiplied by
    ``2**scale_exponent`` (see :mod:`sklearn_covertreex.metrics.scaling`):
    ``radius``, ``parent_dist`` and the levels are those of the scaled rows.

    Levels are :data:`LEVEL_DTYPE`; the node and id arrays (``parent``,
    ``child_ptr``, ``children``, ``id_ptr``, ``ids``) are
    :func:`index_dtype` of the tree's size (int32 below about two billion
    ids); arrays of another integer dtype are converted on construction.

    All arrays are read-only: a tree is never modified in place; insertion
    and deletion build a new one.
    """

    points: np.ndarray
    level: np.ndarray
    parent: np.ndarray
    parent_dist: np.ndarray
    radius: np.ndarray
    child_ptr: np.ndarray
    children: np.ndarray
    id_ptr: np.ndarray
    ids: np.ndarray
    root: int
    n_ids_total: int
    metric: str = "euclidean"
    metric_params: tuple[float, ...] = ()
    scale_exponent: int = 0
    diagnostics: dict[str, Any] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.metric_params:
            object.__setattr__(self, "metric_params", (float(self.points.shape[-1]),))
        object.__setattr__(self, "metric_params", tuple(float(v) for v in self.metric_params))
        object.__setattr__(self, "scale_exponent", int(self.scale_exponent))
        for name in ("points", "parent_dist", "radius"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        object.__setattr__(self, "level", _frozen(self.level, LEVEL_DTYPE))
        dtype = self.index_dtype
        for name in INDEX_FIELDS:
            object.__setattr__(self, name, _frozen(getattr(self, name), dtype))

    @property
    def index_dtype(self) -> np.dtype:
        """The dtype of the node and id arrays (see :func:`index_dtype`)."""
        count = max(int(self.n_ids_total), int(np.shape(self.ids)[0]),
                    int(np.shape(self.level)[0])) + 1
        return index_dtype(count)

    @cached_property
    def subtree_end(self) -> np.ndarray:
        """Where each node's descendants end when they are one run of nodes, else -1.

        Derived from the tree (:func:`~sklearn_covertreex.core.blocks.subtree_ends`)
        on first use and not stored in pickles: the descendants of ``v`` are
        the nodes ``children[child_ptr[v]] .. subtree_end[v] - 1`` where it is
        not -1 (every internal node of a tree numbered in block order, as
        every finished tree is).
        """
        return _frozen(subtree_ends(self.parent, self.child_ptr, self.children, self.root))

    def query_arrays(self) -> tuple[Any, ...]:
        """The tree as the query kernels take it.

        ``(points, radius, parent_dist, child_ptr, children, subtree_end,
        id_ptr, ids, root)``: see
        :class:`~sklearn_covertreex.backends.contract.TreeKernels`.
        """
        return (self.points, self.radius, self.parent_dist, self.child_ptr, self.children,
                self.subtree_end, self.id_ptr, self.ids, self.root)

    @property
    def n_nodes(self) -> int:
        """Number of nodes (distinct points)."""
        return int(self.level.shape[0])

    @property
    def n_points(self) -> int:
        """Number of live dataset ids (duplicates counted)."""
        return int(self.ids.shape[0])

    @property
    def n_features(self) -> int:
        """Width of a stored row (for the residual metric, of the packed row)."""
        return int(self.points.shape[-1])

    def node_of_id(self) -> np.ndarray:
        """Array mapping each dataset id to its node (-1 for absent ids)."""
        out = np.full(self.n_ids_total, -1, dtype=np.int64)
        counts = np.diff(self.id_ptr)
        out[self.ids] = np.repeat(np.arange(self.n_nodes, dtype=np.int64), counts)
        return out

    def live_ids(self) -> np.ndarray:
        """Sorted array of the dataset ids stored in the tree."""
        return np.sort(self.ids)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("subtree_end", None)  # derived (cached_property): made again on use
        state["_format_version"] = FORMAT_VERSION
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        version = state.pop("_format_version", None)
        if version == 1:
            state = _upgrade_v1(state)
        if version in (1, 2):
            state = _upgrade_v2(state)
        elif version != FORMAT_VERSION:
            raise ValueError(
                f"Cannot load a tree stored with format version {version}; "
                f"this version reads format {FORMAT_VERSION}"
            )
        for key, value in state.items():
            object.__setattr__(self, key, value)
        self.__post_init__()


def _upgrade_v2(state: dict[str, Any]) -> dict[str, Any]:
    """Format 2 -> 3: rows may be stored rescaled by ``2**scale_exponent``; older ones were not."""
    return {**state, "scale_exponent": 0}


def _upgrade_v1(state: dict[str, Any]) -> dict[str, Any]:
    """Format 1 -> 2: metric parameters become a field of the tree.

    Format 1 stored residual-correlation rows as ``(n, 1, 3 + d + m)`` arrays
    ``[kind, d, s, z, w]``; format 2 stores ``(n, 1 + d + m)`` rows
    ``[s, z, w]`` with ``(1 + d + m, kind, d)`` as parameters.
    """
    state = dict(state)
    points = np.asarray(state["points"])
    if state.get("metric") == _V1_RESIDUAL and points.ndim == 3:
        rows = points[:, 0, :]
        kind, dim = (float(rows[0, 0]), float(rows[0, 1])) if rows.shape[0] else (0.0, 0.0)
        state["points"] = np.ascontiguousarray(rows[:, 2:])
        state["metric_params"] = (float(rows.shape[1] - 2), kind, dim)
    else:
        state["metric_params"] = (float(points.shape[-1]),)
    return state
