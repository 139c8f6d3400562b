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
    place_csr_rows,
    predecessor_knn,
    radius_query,
)
from .algo.view import Context
from .backends import get_backend, require_tree
from .core.invariants import check_invariants
from .core.tree import TreeArrays
from .metrics import get_metric, scaling
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
        Rows of metrics that are homogeneous in the coordinates (the
        Minkowski family, ``seuclidean``, ``mahalanobis``, ``sqeuclidean``)
        are rescaled internally by a power of two where their magnitude
        needs it (see :mod:`sklearn_covertreex.metrics.scaling`), so data at
        any finite scale, 1e-300 to 1e300, gets exact answers.
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

    def _new(self, arrays: TreeArrays, n_features: int | None = None,
             exponent: int | None = None) -> CoverTree:
        """A tree on ``arrays``, stamped with ``exponent`` (default: this tree's)."""
        if exponent is None:
            exponent = self.arrays.scale_exponent
        if arrays.scale_exponent != exponent:
            arrays = dataclasses.replace(arrays, scale_exponent=int(exponent))
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

    def _to_user(self, d: np.ndarray, exponent: int | None = None,
                 params: tuple[float, ...] | None = None) -> np.ndarray:
        """Stored-row distances -> reported distances (padding ``inf`` kept).

        ``exponent`` is the power of two the stored rows were scaled by and
        ``params`` the metric parameters (the fitted tree's by default);
        ``ValueError`` where a distance is beyond float64 range once reported.
        """
        if exponent is None:
            exponent = self.arrays.scale_exponent
        if params is None:
            params = self.arrays.metric_params
        d = scaling.unscale_distances(d, exponent)
        metric = self.metric_object
        if not metric.converts_distances:
            return d
        out = np.array(d, dtype=np.float64, copy=True)
        finite = np.isfinite(out)
        with np.errstate(over="ignore"):
            out[finite] = metric.to_user(out[finite], params)
        if np.any(np.isinf(out[finite])):
            raise ValueError(scaling.distance_overflow_message())
        return out

    # ------------------------------------------------------------ rescaling
    def _scale_band(self, params: tuple[float, ...]) -> tuple[int, int] | None:
        """The metric's band of unscaled magnitudes (None: rows are never rescaled)."""
        power = self.metric_object.scale_power
        if power is None:
            return None
        return scaling.band(float(power(params)), int(params[0]))

    def _rows_at(self, X: np.ndarray, exponent: int,
                 params: tuple[float, ...] | None = None) -> np.ndarray:
        """Stored rows ``prepare(X * 2**exponent)``."""
        return self._prepare(scaling.scale(X, exponent), params)

    def _fit_rows(self, X: np.ndarray, params: tuple[float, ...]) -> tuple[np.ndarray, int]:
        """Stored rows of a new tree on ``X`` and the exponent they were scaled by.

        The exponent is chosen from the user rows, then corrected once from
        the stored rows (the metric's ``prepare`` may change magnitudes by
        its parameters, e.g. a Mahalanobis matrix).
        """
        band = self._scale_band(params)
        if band is None:
            return self._prepare(X, params), 0
        power, width = float(self.metric_object.scale_power(params)), int(params[0])
        e = scaling.choose_exponent(scaling.max_exponent(X), power, width)
        rows = self._rows_at(X, e, params)
        correction = scaling.choose_exponent(scaling.max_exponent(rows), power, width)
        if correction:
            e += correction
            rows = self._rows_at(X, e, params)
            scaling.max_exponent(rows)  # finite?
        return rows, e

    def _query_rows(self, Q: np.ndarray) -> tuple[np.ndarray, TreeArrays, int]:
        """Stored rows of queries, the tree to search them in, and its exponent.

        Queries are scaled like the fitted rows. Queries so much larger than
        the fitted rows that their powered differences would overflow are
        searched in the tree rescaled down by a further power of two (exact:
        every stored coordinate, radius and level is shifted; ``ValueError``
        where the shift would underflow the stored rows).
        """
        arrays = self.arrays
        e = arrays.scale_exponent
        band = self._scale_band(arrays.metric_params)
        if band is None:
            return self._prepare(Q), arrays, 0
        hi = band[1]
        shift = 0
        mq = scaling.max_exponent(Q)
        if mq is not None and mq + e > hi:
            shift = scaling.TARGET - (mq + e)
        scaled = scaling.scale(Q, e + shift)
        rows = self._prepare(scaled)
        if rows is not scaled:  # the metric's prepare made new rows: their magnitude too
            m = scaling.max_exponent(rows)
            if m is not None and m > hi:
                shift += scaling.TARGET - m
                rows = self._rows_at(Q, e + shift)
        if shift:
            arrays = _shifted(arrays, shift)
        return rows, arrays, e + shift

    def _query_groups(self, Q: np.ndarray) -> list[tuple[np.ndarray | slice, np.ndarray,
                                                          TreeArrays, int]]:
        """The queries in groups of one scale: (positions, stored rows, tree, exponent) each.

        Normally one group. Where some rows are so much larger than the
        fitted rows that they need the tree shifted down (see
        :meth:`_query_rows`), those rows form a group of their own, so the
        shift cannot underflow the distances of the other queries (a query
        at 0 beside one at 0.5, against rows near 1e-278).
        """
        band = self._scale_band(self.arrays.metric_params)
        mq = None if band is None or Q.shape[0] < 2 else scaling.max_exponent(Q)
        if mq is None or mq + self.arrays.scale_exponent <= band[1]:
            return [(slice(None), *self._query_rows(Q))]
        top = np.abs(Q).max(axis=1)
        large = (top > 0) & (np.frexp(top)[1] + self.arrays.scale_exponent > band[1])
        if np.all(large):
            return [(slice(None), *self._query_rows(Q))]
        return [(pos, *self._query_rows(np.ascontiguousarray(Q[pos])))
                for pos in (np.flatnonzero(~large), np.flatnonzero(large))]

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
        rows, exponent = self._fit_rows(X, ctx.params)
        base = empty_tree(self.metric, ctx.params)
        arrays = insert_points(ctx, base, rows, ids, progress=progress)
        _check_diameter(self, arrays, exponent)
        return self._new(arrays, X.shape[1], exponent)

    def insert(self, X: Any, *, progress: Callable[[int], object] | None = None) -> CoverTree:
        """Return a new tree with the rows of ``X`` added (batch insertion).

        New rows get the ids ``n_ids_total, n_ids_total + 1, ...``; ``progress``
        is as in :meth:`fit`. Rows so large that they do not fit the tree's
        power-of-two scale (see :mod:`~sklearn_covertreex.metrics.scaling`)
        make it rebuild every row at a new scale (``progress`` then counts
        the old rows too).
        """
        X = check_points(X, n_features=self._n_features)
        if self._arrays is None:
            return self.fit(X, progress=progress)
        tree, ctx = self._arrays, self._ctx()
        band = self._scale_band(tree.metric_params)
        if band is None:
            return self._new(insert_points(ctx, tree, self._prepare(X), progress=progress))
        e = tree.scale_exponent
        if tree.n_nodes:
            mq = scaling.max_exponent(X)
            if mq is None or mq + e <= band[1]:
                rows = self._rows_at(X, e)
                m = scaling.max_exponent(rows)
                if m is None or m <= band[1]:
                    arrays = insert_points(ctx, tree, rows, progress=progress)
                    _check_diameter(self, arrays, e)
                    return self._new(arrays)
        # an empty tree, or rows beyond its scale: every row at a new exponent
        rows, new_e = self._fit_rows(X, tree.metric_params)
        if tree.n_nodes:
            new_e = min(new_e, e)
            rows = self._rows_at(X, new_e)
        old_ids, old_rows = self._stored_rows()
        old_rows = scaling.scale(old_rows, new_e - e)
        ids = np.concatenate((old_ids, np.arange(tree.n_ids_total, tree.n_ids_total + X.shape[0],
                                                 dtype=np.int64)))
        base = empty_tree(self.metric, tree.metric_params, tree.n_ids_total)
        arrays = insert_points(ctx, base, np.vstack((old_rows, rows)), ids, progress=progress)
        _check_diameter(self, arrays, new_e)
        return self._new(arrays, exponent=new_e)

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
        return self._new(delete_ids(self._ctx(), tree, arr), exponent=tree.scale_exponent)

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
        groups = self._query_groups(Q)
        if len(groups) == 1:
            _, rows, arrays, exponent = groups[0]
            d, i, evaluations, pruned = knn_query(self._ctx(), arrays, rows, k)
            d = self._to_user(d, exponent)
        else:
            d = np.empty((Q.shape[0], k))
            i = np.empty((Q.shape[0], k), np.int64)
            evaluations = np.empty(Q.shape[0], np.int64)
            pruned = np.empty(Q.shape[0], np.int64)
            for pos, rows, arrays, exponent in groups:
                gd, i[pos], evaluations[pos], pruned[pos] = knn_query(self._ctx(), arrays,
                                                                      rows, k)
                d[pos] = self._to_user(gd, exponent)
        seconds = time.perf_counter() - t0
        i = i.astype(np.intp, copy=False)
        if return_diagnostics:
            return d, i, QueryDiagnostics(seconds, evaluations, pruned)
        return d, i

    def fitted_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The live ids (ascending) and their rows after the metric's ``prepare``.

        At the data's scale (any internal power-of-two rescaling undone).
        """
        ids, rows = self._stored_rows()
        return ids, np.ascontiguousarray(scaling.scale(rows, -self.arrays.scale_exponent))

    def _stored_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The live ids (ascending) and their rows as stored (rescaled)."""
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
        ids, rows = self._stored_rows()
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
        groups = self._query_groups(Q)
        if len(groups) == 1:
            _, rows, arrays, exponent = groups[0]
            return self._radius_rows(rows, r, arrays, exponent)
        return place_csr_rows(Q.shape[0], [(pos, *self._radius_rows(rows, r[pos], arrays, e))
                                           for pos, rows, arrays, e in groups])

    def _radius_rows(self, rows: np.ndarray, r: np.ndarray, arrays: TreeArrays | None = None,
                     exponent: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Radius search of stored rows; ``r`` and the distances in the user's units.

        ``arrays`` (default: the tree's) hold rows scaled by ``2**exponent``
        (default: the tree's exponent); the radius is scaled alike (exact:
        the inclusive boundary is kept). Where the metric converts
        distances, the stored-row radius is widened by a few ulps against
        rounding of the conversion, and the answer is then cut at
        ``to_user(d) <= r``: inclusive on the distances reported.
        """
        if arrays is None:
            arrays = self.arrays
        if exponent is None:
            exponent = arrays.scale_exponent
        metric = self.metric_object
        if not metric.converts_distances:
            stored = scaling.scale_radius(r, exponent)
            indptr, d, i = radius_query(self._ctx(), arrays, rows, stored)
            return indptr, self._to_user(d, exponent), i.astype(np.intp, copy=False)
        params = arrays.metric_params
        stored = np.asarray(metric.radius_to_stored(r, params), dtype=np.float64)
        stored = scaling.scale_radius(stored * (1 + 1e-12), exponent) + 1e-300
        stored = np.broadcast_to(stored, r.shape).copy()
        indptr, d, i = radius_query(self._ctx(), arrays, rows, stored)
        d = self._to_user(d, exponent)
        row = np.repeat(np.arange(rows.shape[0]), np.diff(indptr))
        keep = d <= r[row]
        if not np.all(keep):
            counts = np.bincount(row[keep], minlength=rows.shape[0])
            indptr = np.concatenate(([0], np.cumsum(counts))).astype(indptr.dtype)
            d, i = d[keep], i[keep]
        return indptr, d, i.astype(np.intp, copy=False)

    def radius_self(self, r: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`radius` of every stored id (rows as in :meth:`knn_self`), itself excluded."""
        ids, rows = self._stored_rows()
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
        ids, rows = self._stored_rows()
        d, i, _ = predecessor_knn(self._ctx(), rows, k)
        i = np.where(i >= 0, ids[np.maximum(i, 0)], -1)
        return self._to_user(d), i.astype(np.intp, copy=False)

    def check(self) -> None:
        """Run :func:`check_invariants` on this tree."""
        if self._arrays is not None:
            check_invariants(self._arrays)


def _shifted(arrays: TreeArrays, shift: int) -> TreeArrays:
    """``arrays`` with every row, radius and distance times ``2**shift``, levels ``+ shift``.

    The same cover tree of the scaled rows, exactly (a power of two moves
    only the floating-point exponent), provided no stored value underflows.

    Raises
    ------
    ValueError
        Where a stored value would underflow (the rows span more than float64
        can shift; the queries are too far from the fitted rows).
    """
    smallest = np.ldexp(np.finfo(np.float64).tiny, -shift)
    for a in (arrays.points, arrays.radius, arrays.parent_dist):
        nonzero = np.abs(a[a != 0])
        if nonzero.size and nonzero.min() < smallest:
            raise ValueError(
                "the query rows are too large beside the fitted rows for float64: searching "
                "them needs the fitted rows scaled down by 2**"
                f"{-shift}, which would underflow some of them; fit on data that includes "
                "rows of the queries' magnitude")
    return dataclasses.replace(
        arrays, points=np.ldexp(arrays.points, shift), radius=np.ldexp(arrays.radius, shift),
        parent_dist=np.ldexp(arrays.parent_dist, shift), level=arrays.level + shift,
        scale_exponent=arrays.scale_exponent + shift, diagnostics=None)


def _check_diameter(tree: CoverTree, arrays: TreeArrays, exponent: int) -> None:
    """``ValueError`` where a distance between stored rows is beyond float64 at the data's scale.

    The root's radius ``R`` bounds every distance by ``2 R``; only when that
    bound is beyond range are the rows far from the root compared pairwise
    (a pair can only exceed the limit ``T`` if both are farther than
    ``T - R`` from the root).
    """
    if not arrays.n_nodes or arrays.root < 0:
        return
    metric = tree.metric_object
    with np.errstate(over="ignore"):
        limit = float(np.asarray(metric.radius_to_stored(np.array([scaling.FLOAT_MAX]),
                                                         arrays.metric_params)).ravel()[0])
        limit = min(float(np.ldexp(limit, exponent)), scaling.FLOAT_MAX)
    R = float(arrays.radius[arrays.root])
    if R > limit:
        raise ValueError(scaling.distance_overflow_message())
    if 2 * R <= limit:
        return
    ctx = tree._ctx(arrays.metric_params)
    kernel = ctx.kernel_metric
    points = arrays.points
    to_root = ctx.backend.distances_to_point(kernel, points, points[arrays.root])
    far = np.ascontiguousarray(points[to_root > limit - R])
    for row in far:
        if float(ctx.backend.distances_to_point(kernel, far, row).max()) > limit:
            raise ValueError(scaling.distance_overflow_message())
