"""The compressed cover tree as a bundle of flat, read-only numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

FORMAT_VERSION = 1


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
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
    diagnostics: dict[str, Any] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name in (
            "points", "level", "parent", "parent_dist", "radius",
            "child_ptr", "children", "id_ptr", "ids",
        ):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

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
        """Length of a stored point (for packed residual rows, of the packed row)."""
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
        state["_format_version"] = FORMAT_VERSION
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        version = state.pop("_format_version", None)
        if version != FORMAT_VERSION:
            raise ValueError(
                f"Cannot load a tree stored with format version {version}; "
                f"this version reads format {FORMAT_VERSION}"
            )
        for key, value in state.items():
            object.__setattr__(self, key, value)
        self.__post_init__()
