"""The :class:`Index` protocol: what every fitted neighbour index answers.

Two families implement it: :class:`~sklearn_covertreex.CoverTree` (any
registered metric, any backend with tree kernels for it) and the
residual-correlation :class:`~sklearn_covertreex.engines.residual.ResidualIndex`
(brute-force engines, or a cover tree underneath). Estimators hold one
index and only call these methods; a sharded index (one per Dask worker)
merges the shards' answers with :func:`~sklearn_covertreex.merge_knn`.

*Build* is each family's constructor step (``CoverTree(...).fit(X, ids)``,
:func:`~sklearn_covertreex.engines.residual.build_index`); everything else is
below. Every update returns a new index and leaves this one unchanged; ties
go to the smaller id; self-exclusion drops the row's own id (and, where exact
duplicates pushed it out, the last entry).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from .runtime import Runtime

KnnResult = tuple[np.ndarray, np.ndarray]
CsrResult = tuple[np.ndarray, np.ndarray, np.ndarray]


@runtime_checkable
class Index(Protocol):
    """A fitted, immutable neighbour index."""

    @property
    def n_points(self) -> int:
        """Number of live ids."""
        ...

    def with_runtime(self, runtime: Runtime) -> Index:
        """The same index (nothing copied) under other runtime choices (threads, ...)."""
        ...

    def insert(self, X: Any) -> Index:
        """A new index with the rows of ``X`` added; their ids continue after the last."""
        ...

    def delete(self, ids: Any) -> Index:
        """A new index without ``ids`` (``NotImplementedError`` where not offered)."""
        ...

    def knn(self, X: Any, k: int) -> KnnResult:
        """(distances, ids) of the k nearest ids of each row of ``X``, rows ascending."""
        ...

    def knn_self(self, k: int) -> KnnResult:
        """:meth:`knn` of every stored id (ascending), the id itself excluded."""
        ...

    def radius(self, X: Any, r: float) -> CsrResult:
        """(indptr, distances, ids) within ``r`` (inclusive) of each row of ``X``."""
        ...

    def radius_self(self, r: float) -> CsrResult:
        """:meth:`radius` of every stored id, the id itself excluded."""
        ...

    def vecchia(self, k: int) -> KnnResult:
        """Each stored id's k nearest ids among the smaller ones (-1 / inf padded)."""
        ...
