"""The functional face of the library: :class:`CoverTree`."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._arrays import returns_input_namespace
from ._threads import kernel_threads
from ._validation import check_ids, check_points, check_positive_int, check_radius
from .algo.batch import delete_ids, insert_points
from .algo.batch.builder import empty_tree
from .algo.query import (
    drop_self_csr,
    drop_self_knn,
    knn_query,
    merge_knn,
    predecessor_knn,
    radius_query,
)
from .algo.view import Context
from .backends import get_backend, require_tree
from .core.invariants import check_invariants
from .core.tree import TreeArrays
from .metrics import get_metric
from .metrics.base import Metric
from .runtime import Runtime

__all__ = ["CoverTree", "QueryDiagnostics", "merge_knn"]


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
    """An immutable, persistent compressed cover tree, for any registered metric.

    ``fit``, ``insert`` and ``delete`` return a **new** tree and leave this
    one valid and unchanged; ``knn``, ``knn_self``, ``radius``,
    ``radius_self`` and ``vecchia`` answer exact queries. Dataset ids are
    integers: ``fit`` numbers its rows from 0 (or takes the ``ids`` given),
    each ``insert`` continues after the largest id ever used.

    Parameters
    ----------
    runtime : Runtime, optional
        Backend and strategy choices; defaults to ``Runtime()``.
    metric : str or Metric, default="euclidean"
        A name registered in :data:`sklearn_covertreex.metrics.METRICS` (or
        one of its :data:`~sklearn_covertreex.metrics.ALIASES`), or a user
        metric from :func:`sklearn_covertreex.metrics.user.user_metric`; the
        backend must have tree kernels for it. ``fit``, ``insert`` and the
        queries take rows as the user gives them (the metric's ``prepare``
        makes the stored rows) and report distances as the metric defines
        them (``to_user``; e.g. ``1 - cos`` for ``"cosine"``); radii are in
        the same units. :meth:`fitted_rows` returns the stored rows.
    metric_params : dict, optional
        Keyword arguments of the metric's ``make_params`` (``"minkowski"``:
        ``p``, ``w``; ``"seuclidean"``: ``V``; ``"mahalanobis"``: ``VI`` or
        ``V``; ``"residual_correlation"``: ``kind`` and ``n_features``, see
        :meth:`~sklearn_covertreex.metrics.residual.ResidualModel.metric_params`).

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

    def __init__(self, runtime: Runtime | None = None, *, metric: str | Metric = "euclidean",
                 metric_params: dict[str, Any] | None = None,
                 _arrays: TreeArrays | None = None, _n_features: int | None = None) -> None:
        self.runtime = (Runtime() if runtime is None else runtime).validate()
        found = metric if isinstance(metric, Metric) else get_metric(metric)
        self.metric = found.name
        # a metric of the user's own travels with the tree (it pickles as its
        # function); registered metrics are found by name
        self._user_metric = found if isinstance(metric, Metric) and \
            found.name.startswith("user:") else None
        self.metric_params = dict(metric_params or {})
        require_tree(self.runtime.backend, self.metric)
        if _arrays is not None and _arrays.metric != self.metric:
            raise ValueError(f"a {_arrays.metric!r} tree cannot be used as a {self.metric!r} tree")
        self._arrays = _arrays
        if _n_features is None and _arrays is not None:
            _n_features = _arrays.n_features
        self._n_features = _n_features

    def __setstate__(self, state: dict[str, Any]) -> None:
        # trees pickled before metrics were a parameter were Euclidean
        state.setdefault("metric", "euclidean")
        state.setdefault("metric_params", {})
        state.setdefault("_user_metric", None)
        user = state["_user_metric"]
        if user is not None and user.name != state["metric"]:
            # the function's metric got another name in this process
            state["metric"] = user.name
            if state.get("_arrays") is not None:
                state["_arrays"] = dataclasses.replace(state["_arrays"], metric=user.name)
        self.__dict__.update(state)

    @property
    def metric_object(self) -> Metric:
        """The :class:`~sklearn_covertreex.metrics.base.Metric` of the tree."""
        return self._user_metric if self._user_metric is not None else get_metric(self.metric)

    # ------------------------------------------------------------------ helpers
    def _make_params(self, n_columns: int) -> tuple[float, ...]:
        """The metric's parameter vector for new rows of ``n_columns`` entries."""
        return self.metric_object.make_params(n_columns, **self.metric_params)

    def _ctx(self, params: tuple[float, ...] | None = None) -> Context:
        """Kernels, metric, parameters (default: the fitted tree's) and resolved threads."""
        params = self.arrays.metric_params if params is None else params
        return Context(get_backend(self.runtime.backend, self.metric), self.metric_object,
                       params, self.runtime, kernel_threads(self.runtime.n_jobs))

    def _metric_arg(self) -> str | Metric:
        return self.metric if self._user_metric is None else self._user_metric

    def _new(self, arrays: TreeArrays, n_features: int | None = None) -> CoverTree:
        return CoverTree(self.runtime, metric=self._metric_arg(),
                         metric_params=self.metric_params, _arrays=arrays,
                         _n_features=self._n_features if n_features is None else n_features)

    def with_runtime(self, runtime: Runtime) -> CoverTree:
        """The same tree (arrays shared, nothing copied) under other runtime choices."""
        return CoverTree(runtime, metric=self._metric_arg(), metric_params=self.metric_params,
                         _arrays=self._arrays, _n_features=self._n_features)

    def _prepare(self, X: np.ndarray, params: tuple[float, ...] | None = None) -> np.ndarray:
        """User rows -> stored rows (the metric's ``prepare``; C-ordered float64)."""
        params = self.arrays.metric_params if params is None else params
        rows = self.metric_object.prepare(X, params)
        return np.ascontiguousarray(rows, dtype=np.float64)

    def _to_user(self, d: np.ndarray) -> np.ndarray:
        """Stored-row distances -> reported distances (padding ``inf`` kept)."""
        metric = self.metric_object
        if not metric.converts_distances:
            return d
        out = np.array(d, dtype=np.float64, copy=True)
        finite = np.isfinite(out)
        out[finite] = metric.to_user(out[finite], self.arrays.metric_params)
        return out

    @property
    def arrays(self) -> TreeArrays:
        """The flat arrays of the tree (read-only)."""
        if self._arrays is None:
            return empty_tree(self.metric, self._make_params(self._n_features or 0))
        return self._arrays

    @property
    def n_points(self) -> int:
        """Number of live dataset ids."""
        return 0 if self._arrays is None else self._arrays.n_points

    @property
    def n_features(self) -> int | None:
        """Width of the rows (None before the first fit or insert)."""
        return self._n_features

    @property
    def diagnostics(self) -> dict[str, Any] | None:
        """Build timings and counters, when ``runtime.diagnostics`` was on."""
        return None if self._arrays is None else self._arrays.diagnostics

    def __len__(self) -> int:
        return self.n_points

    def __repr__(self) -> str:
        return (f"CoverTree(n_points={self.n_points}, n_features={self._n_features}, "
                f"metric={self.metric!r}, backend={self.runtime.backend!r})")

    # ----------------------------------------------------------------- building
    def fit(self, X: Any, ids: Any = None, *,
            progress: Callable[[int], object] | None = None) -> CoverTree:
        """Build a new tree on the rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Finite real points (float32 input is upcast to float64).
        ids : array-like of shape (n,), optional
            Distinct non-negative integer ids of the rows (e.g. a shard's
            global row numbers); by default ``0 .. n - 1``.
        progress : callable, optional
            Called with the number of rows inserted after each batch (e.g. a
            ``tqdm`` bar's ``update``).
        """
        X = check_points(X)
        if ids is not None:
            ids = check_ids(ids, X.shape[0])
        ctx = self._ctx(self._make_params(X.shape[1]))
        check_sample = getattr(ctx.metric, "check_sample", None)
        if check_sample is not None:  # a metric of the user's own: is it plausibly one?
            check_sample(X, self.runtime.seed)
        rows = self._prepare(X, ctx.params)
        base = empty_tree(self.metric, ctx.params)
        return self._new(insert_points(ctx, base, rows, ids, progress=progress), X.shape[1])

    def insert(self, X: Any, *, progress: Callable[[int], object] | None = None) -> CoverTree:
        """Return a new tree with the rows of ``X`` added (batch insertion).

        New rows get the ids ``n_ids_total, n_ids_total + 1, ...``; ``progress``
        is as in :meth:`fit`.
        """
        X = check_points(X, n_features=self._n_features)
        if self._arrays is None:
            return self.fit(X, progress=progress)
        return self._new(insert_points(self._ctx(), self._arrays, self._prepare(X),
                                       progress=progress))

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
    def _check_query(self, Q: Any, check_input: bool) -> np.ndarray:
        if self.n_points == 0:
            raise ValueError("the tree is empty; fit or insert points first")
        if not check_input:
            return Q
        return check_points(Q, name="Q", n_features=self._n_features, allow_empty=True)

    def _check_k(self, k: Any, n_available: int) -> int:
        k = check_positive_int(k, "k")
        if k > n_available:
            raise ValueError(f"k={k} is larger than the number of points ({n_available})")
        return k

    @returns_input_namespace
    def knn(self, Q: Any, k: int, *, return_diagnostics: bool = False,
            check_input: bool = True):
        """Exact k nearest neighbours of every row of ``Q``.

        Parameters
        ----------
        Q : array-like of shape (n_queries, n_features)
        k : int
        return_diagnostics : bool, default=False
            Also return a :class:`QueryDiagnostics` (time, distance
            evaluations and pruned nodes per query).
        check_input : bool, default=True
            Validate ``Q``; pass False only for a C-ordered finite float64
            array of the right width that the caller has already checked
            (the metric's ``prepare`` is applied either way).

        Returns
        -------
        distances : ndarray of shape (n_queries, k), float64, rows ascending
        ids : ndarray of shape (n_queries, k), intp; among equal distances
            the smaller id comes first.
        diagnostics : QueryDiagnostics
            Only if ``return_diagnostics``.
        """
        Q = self._check_query(Q, check_input)
        k = self._check_k(k, self.n_points)
        t0 = time.perf_counter()
        d, i, evaluations, pruned = knn_query(self._ctx(), self.arrays, self._prepare(Q), k)
        d = self._to_user(d)
        seconds = time.perf_counter() - t0
        i = i.astype(np.intp, copy=False)
        if return_diagnostics:
            return d, i, QueryDiagnostics(seconds, evaluations, pruned)
        return d, i

    def fitted_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The live ids (ascending) and their stored rows (after the metric's ``prepare``)."""
        ids = self.arrays.live_ids()
        return ids, np.ascontiguousarray(self.arrays.points[self.arrays.node_of_id()[ids]])

    def knn_self(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest neighbours of every stored id, the id itself excluded.

        Rows follow the live ids in ascending order (``0 .. n - 1`` after a
        ``fit`` without deletions). Exact duplicates of a point are its
        neighbours at distance 0.

        Returns
        -------
        distances : ndarray of shape (n_points, k), float64
        ids : ndarray of shape (n_points, k), intp
        """
        k = self._check_k(k, self.n_points - 1)
        ids, rows = self.fitted_rows()
        d, i, _, _ = knn_query(self._ctx(), self.arrays, rows, k + 1)
        d, i = drop_self_knn(self._to_user(d), i.astype(np.intp, copy=False), ids)
        return d, i

    @returns_input_namespace
    def radius(self, Q: Any, r: Any, *,
               check_input: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every id within distance ``r`` (inclusive) of each row of ``Q``.

        ``r`` is a scalar or one radius per query; ``check_input`` is as in
        :meth:`knn`.

        Returns
        -------
        indptr : ndarray (n_queries + 1,) — row i is ``indptr[i]:indptr[i + 1]``
        distances : ndarray, float64, ascending within each row
        ids : ndarray, intp
        """
        Q = self._check_query(Q, check_input)
        r = check_radius(r, Q.shape[0])
        return self._radius_rows(self._prepare(Q), r)

    def _radius_rows(self, rows: np.ndarray,
                     r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Radius search of stored rows; ``r`` and the distances in the user's units.

        Where the metric converts distances, the stored-row radius is widened
        by a few ulps against rounding of the conversion, and the answer is
        then cut at ``to_user(d) <= r``: inclusive on the distances reported.
        """
        metric = self.metric_object
        if not metric.converts_distances:
            indptr, d, i = radius_query(self._ctx(), self.arrays, rows, r)
            return indptr, d, i.astype(np.intp, copy=False)
        params = self.arrays.metric_params
        stored = np.asarray(metric.radius_to_stored(r, params), dtype=np.float64)
        stored = np.broadcast_to(stored * (1 + 1e-12) + 1e-300, r.shape).copy()
        indptr, d, i = radius_query(self._ctx(), self.arrays, rows, stored)
        d = self._to_user(d)
        row = np.repeat(np.arange(rows.shape[0]), np.diff(indptr))
        keep = d <= r[row]
        if not np.all(keep):
            counts = np.bincount(row[keep], minlength=rows.shape[0])
            indptr = np.concatenate(([0], np.cumsum(counts))).astype(indptr.dtype)
            d, i = d[keep], i[keep]
        return indptr, d, i.astype(np.intp, copy=False)

    def radius_self(self, r: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`radius` of every stored id (rows as in :meth:`knn_self`), itself excluded."""
        ids, rows = self.fitted_rows()
        r = check_radius(r, rows.shape[0])
        return drop_self_csr(*self._radius_rows(rows, r), ids)

    def vecchia(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Each stored id's k nearest ids among the smaller ones (Vecchia predecessors).

        Rows follow the live ids in ascending order; row ``i`` holds the k
        nearest of the ids before it, ascending, padded with id -1 and
        distance inf where there are fewer. Built from persistent prefix
        trees (:func:`~sklearn_covertreex.algo.query.predecessor_knn`).

        Returns
        -------
        distances : ndarray of shape (n_points, k), float64
        ids : ndarray of shape (n_points, k), intp
        """
        k = check_positive_int(k, "k")
        if self.n_points == 0:
            raise ValueError("the tree is empty; fit or insert points first")
        ids, rows = self.fitted_rows()
        d, i, _ = predecessor_knn(self._ctx(), rows, k)
        i = np.where(i >= 0, ids[np.maximum(i, 0)], -1)
        return self._to_user(d), i.astype(np.intp, copy=False)

    def check(self) -> None:
        """Run :func:`check_invariants` on this tree."""
        if self._arrays is not None:
            check_invariants(self._arrays)
