"""The functional face of the library: :class:`CoverTree`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import check_points, check_positive_int, check_radius
from .algo.batch import delete_ids, insert_points
from .algo.batch.builder import empty_tree
from .algo.query import knn_query, radius_query
from .algo.view import Context
from .backends import get_backend
from .core.invariants import check_invariants
from .core.tree import TreeArrays
from .metrics import get_metric
from .runtime import Runtime


@dataclass(frozen=True)
class QueryDiagnostics:
    """Counters of one batch of k-NN queries (returned, never stored).

    Attributes
    ----------
    seconds : float
        Wall-clock time of the batch.
    distance_evaluations : ndarray of shape (n_queries,), int64
        Distances computed per query.
    pruned_nodes : ndarray of shape (n_queries,), int64
        Tree nodes per query whose subtree was discarded unexpanded (skipped
        by the parent-distance bound, not queued, or still queued when the
        search stopped).
    """

    seconds: float
    distance_evaluations: np.ndarray
    pruned_nodes: np.ndarray

    def summary(self) -> dict[str, float]:
        """Totals and means as plain numbers."""
        n = max(1, self.distance_evaluations.shape[0])
        return {"seconds": float(self.seconds),
                "distance_evaluations_total": int(self.distance_evaluations.sum()),
                "distance_evaluations_mean": float(self.distance_evaluations.sum() / n),
                "pruned_nodes_total": int(self.pruned_nodes.sum()),
                "pruned_nodes_mean": float(self.pruned_nodes.sum() / n)}


class CoverTree:
    """An immutable, persistent compressed cover tree (Euclidean).

    ``fit``, ``insert`` and ``delete`` return a **new** tree and leave this
    one valid and unchanged; ``knn`` and ``radius`` answer exact queries.
    Dataset ids are consecutive integers: ``fit`` numbers its rows from 0,
    each ``insert`` continues after the last id ever used.

    Parameters
    ----------
    runtime : Runtime, optional
        Backend and strategy choices; defaults to ``Runtime()``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_covertreex import CoverTree
    >>> X = np.random.default_rng(0).normal(size=(1000, 3))
    >>> tree = CoverTree().fit(X)
    >>> dist, ids = tree.knn(X[:5], k=3)
    >>> ids[:, 0].tolist()
    [0, 1, 2, 3, 4]
    """

    def __init__(self, runtime: Runtime | None = None, *, _arrays: TreeArrays | None = None,
                 _n_features: int | None = None) -> None:
        self.runtime = (Runtime() if runtime is None else runtime).validate()
        self._arrays = _arrays
        self._n_features = _n_features if _arrays is None else _arrays.n_features

    # ------------------------------------------------------------------ helpers
    def _ctx(self) -> Context:
        return Context(get_backend(self.runtime.backend), get_metric("euclidean"), self.runtime)

    def _new(self, arrays: TreeArrays) -> CoverTree:
        return CoverTree(self.runtime, _arrays=arrays)

    @property
    def arrays(self) -> TreeArrays:
        """The flat arrays of the tree (read-only)."""
        if self._arrays is None:
            return empty_tree(self._n_features or 0, "euclidean")
        return self._arrays

    @property
    def n_points(self) -> int:
        """Number of live dataset ids."""
        return 0 if self._arrays is None else self._arrays.n_points

    @property
    def n_features(self) -> int | None:
        """Dimension of the points (None before the first fit or insert)."""
        return self._n_features

    @property
    def diagnostics(self) -> dict[str, Any] | None:
        """Build timings and counters, when ``runtime.diagnostics`` was on."""
        return None if self._arrays is None else self._arrays.diagnostics

    def __len__(self) -> int:
        return self.n_points

    def __repr__(self) -> str:
        return (f"CoverTree(n_points={self.n_points}, n_features={self._n_features}, "
                f"backend={self.runtime.backend!r})")

    # ----------------------------------------------------------------- building
    def fit(self, X: Any, *, progress: Callable[[int], object] | None = None) -> CoverTree:
        """Build a new tree on the rows of ``X`` (ids 0 to n - 1).

        Parameters
        ----------
        X : array-like of shape (n, d)
            Finite real points (float32 input is upcast to float64).
        progress : callable, optional
            Called with the number of rows inserted after each batch (e.g. a
            ``tqdm`` bar's ``update``).
        """
        X = check_points(X)
        base = empty_tree(X.shape[1], "euclidean")
        return self._new(insert_points(self._ctx(), base, X, progress=progress))

    def insert(self, X: Any, *, progress: Callable[[int], object] | None = None) -> CoverTree:
        """Return a new tree with the rows of ``X`` added (batch insertion).

        New rows get the ids ``n_ids_total, n_ids_total + 1, ...``; ``progress``
        is as in :meth:`fit`.
        """
        X = check_points(X, n_features=self._n_features)
        base = self.arrays if self._arrays is not None else empty_tree(X.shape[1], "euclidean")
        return self._new(insert_points(self._ctx(), base, X, progress=progress))

    def delete(self, ids: Any) -> CoverTree:
        """Return a new tree without the given dataset ids.

        Raises
        ------
        ValueError
            If an id is not in the tree (or repeated).
        """
        arr = np.asarray(ids)
        if arr.dtype.kind not in "iu":
            if arr.size == 0:
                arr = arr.astype(np.int64)
            else:
                raise TypeError(f"ids must be integers, got dtype {arr.dtype}")
        arr = arr.astype(np.int64).ravel()
        if arr.size == 0:
            return self
        if np.unique(arr).size != arr.size:
            raise ValueError("ids to delete must not repeat")
        tree = self.arrays
        present = np.zeros(tree.n_ids_total, dtype=bool)
        present[tree.ids] = True
        bad = (arr < 0) | (arr >= tree.n_ids_total)
        bad[~bad] = ~present[arr[~bad]]
        if np.any(bad):
            raise ValueError(f"ids not in the tree: {arr[bad][:10].tolist()}")
        return self._new(delete_ids(self._ctx(), tree, arr))

    # ------------------------------------------------------------------ queries
    def _check_query(self, Q: Any) -> np.ndarray:
        if self.n_points == 0:
            raise ValueError("the tree is empty; fit or insert points first")
        return check_points(Q, name="Q", n_features=self._n_features, allow_empty=True)

    def knn(self, Q: Any, k: int, *, return_diagnostics: bool = False):
        """Exact k nearest neighbours of every row of ``Q``.

        Parameters
        ----------
        Q : array-like of shape (n_queries, n_features)
        k : int
        return_diagnostics : bool, default=False
            Also return a :class:`QueryDiagnostics` (time, distance
            evaluations and pruned nodes per query).

        Returns
        -------
        distances : ndarray of shape (n_queries, k), float64, rows ascending
        ids : ndarray of shape (n_queries, k), intp; among equal distances
            the smaller id comes first.
        diagnostics : QueryDiagnostics
            Only if ``return_diagnostics``.
        """
        Q = self._check_query(Q)
        k = check_positive_int(k, "k")
        if k > self.n_points:
            raise ValueError(f"k={k} is larger than the number of points ({self.n_points})")
        t0 = time.perf_counter()
        d, i, evaluations, pruned = knn_query(self._ctx(), self.arrays, Q, k)
        seconds = time.perf_counter() - t0
        i = i.astype(np.intp, copy=False)
        if return_diagnostics:
            return d, i, QueryDiagnostics(seconds, evaluations, pruned)
        return d, i

    def radius(self, Q: Any, r: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every id within distance ``r`` (inclusive) of each row of ``Q``.

        Returns
        -------
        indptr : ndarray (n_queries + 1,) — row i is ``indptr[i]:indptr[i + 1]``
        distances : ndarray, float64, ascending within each row
        ids : ndarray, intp
        """
        Q = self._check_query(Q)
        r = check_radius(r, Q.shape[0])
        indptr, d, i = radius_query(self._ctx(), self.arrays, Q, r)
        return indptr, d, i.astype(np.intp, copy=False)

    def check(self) -> None:
        """Run :func:`check_invariants` on this tree."""
        if self._arrays is not None:
            check_invariants(self._arrays)
