"""The sharded estimators' shared machinery: fit / partial_fit / queries on a cluster.

A subclass says how one shard is built (:meth:`_shard_builder`: a picklable
``build(rows, threads) -> Index`` and ``rows_of(index) -> rows``) and what its
single-machine twin is (:meth:`to_local`); everything else is here:

* ``fit`` partitions X along rows (:mod:`.partition`) and builds each
  shard's index **on the worker holding that partition**, as one task per
  shard; the client keeps only futures (``shards_``), never the data.
* queries send each query block to every shard and merge the partial
  answers pairwise on the workers (:mod:`.plan`); only the merged answer
  comes back.
* answers carry global ids (shard ``j`` holds ``offsets_[j] ..``), so they
  equal the single-machine estimator's for any sharding, ties included.
"""

from __future__ import annotations

import numbers
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

import dask
import dask.array as da
import numpy as np
from dask import delayed
from distributed import Client, Future, get_client, wait
from sklearn.utils.validation import check_is_fitted

from ..estimators._base import _CoverTreeBase
from ..estimators._common import check_n_neighbors, check_radius_param
from . import plan
from . import shard as S
from .partition import Partitions, check_n_shards, is_dask, partition, query_blocks
from .tasks import LazyTasks, run_pinned, shard_holders


def _check_block_size(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")


def _check_client(value: Any, name: str) -> None:
    if value is not None and not isinstance(value, Client):
        raise TypeError(f"{name} must be a distributed.Client or None, got "
                        f"{type(value).__name__}")


class _DaskShardedBase(_CoverTreeBase):
    """Fit, grow and query a sharded index (private base of the Dask estimators)."""

    _parameter_checks = {
        **_CoverTreeBase._parameter_checks,
        "n_shards": check_n_shards,
        "query_block_size": _check_block_size,
        "client": _check_client,
    }
    _private_fitted: ClassVar[tuple[str, ...]] = ("_dask_input",)
    #: Prefix of the shards' task keys (seen on the dashboard).
    _key_prefix: ClassVar[str] = "covertree-shard"

    # ------------------------------------------------------------- hooks
    def _shard_builder(self, fitted: dict[str, Any]) -> tuple[Callable[..., Any],
                                                              Callable[[Any], np.ndarray]]:
        """``(build(rows, threads) -> Index, rows_of(index) -> rows)`` for the shards."""
        raise NotImplementedError

    def _prepare_fit(self, X: Any, n: int) -> dict[str, Any]:
        """Fitted attributes decided on the client before the shards are built."""
        return {}

    # ----------------------------------------------------------- helpers
    def _client(self) -> Client:
        """The ``client`` parameter, else the current default client."""
        if self.client is not None:
            return self.client
        try:
            return get_client()
        except ValueError as exc:
            raise ValueError(
                f"{type(self).__name__} needs a Dask cluster: start one with "
                "distributed.Client(LocalCluster(...)) or Client('tcp://scheduler:8786'), "
                "or pass client="
            ) from exc

    def _fitted_client(self) -> Client:
        return self.shards_[0].client

    def _validate_input(self, X: Any, reset: bool) -> tuple[Any, dict[str, Any]]:
        """Validated in-memory X, or a dask collection checked for shape and dtype."""
        if not is_dask(X):
            if reset:
                return self._validate_fit(X)
            return self._validate_more(X), {}
        from .partition import dask_rows

        arr = dask_rows(X)
        names = getattr(X, "columns", None)
        seen: dict[str, Any] = {"n_features_in_": int(arr.shape[1])}
        if names is not None and all(isinstance(c, str) for c in names):
            seen["feature_names_in_"] = np.asarray(list(names), dtype=object)
        if not reset and arr.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {arr.shape[1]} features, but {type(self).__name__} "
                             f"is expecting {self.n_features_in_} features as input")
        return arr, seen

    def _build_shards(self, client: Client, parts: Partitions, start: int,
                      fitted: dict[str, Any]) -> list[Future]:
        """One task per partition, building its shard where the partition is; wait for all."""
        build, rows_of = self._shard_builder(fitted)
        token = f"{self._key_prefix}-{uuid.uuid4().hex[:12]}"  # a fresh key per build
        pieces = zip(parts.blocks(), parts.offsets(start), strict=True)
        tasks = [delayed(S.build_shard, pure=False)(block, offset, build, rows_of, self.n_jobs,
                                                    dask_key_name=f"{token}-{j}")
                 for j, (block, offset) in enumerate(pieces)]
        if parts.from_dask:
            futures = client.compute(tasks)
        else:  # in-memory literals: spread the builds over the workers (loosely)
            workers = sorted(client.nthreads())
            futures = []
            for j, t in enumerate(tasks):
                with dask.annotate(workers=[workers[j % len(workers)]],
                                   allow_other_workers=True):
                    futures.append(client.compute(t))
        wait(futures)
        for f in futures:
            if f.status == "error":
                f.result()  # raises the worker's exception here
        return futures

    # ------------------------------------------------------------- fitting
    def fit(self, X: Any, y: Any = None):
        """Partition X along rows and build one shard per partition on its worker.

        Parameters
        ----------
        X : ndarray, dask array or dask dataframe of shape (n_samples, n_features)
            A dask collection keeps its row chunks as shards unless
            ``n_shards`` is given; an in-memory array is split into
            ``n_shards`` (default: one per worker).
        y : ignored

        Returns
        -------
        self
        """
        self._check_params()
        client = self._client()
        X, seen = self._validate_input(X, reset=True)
        parts = partition(X, self.n_shards, max(1, len(client.nthreads())))
        fitted = {**seen, **self._prepare_fit(parts.array if is_dask(X) else X, parts.n)}
        shards = self._build_shards(client, parts, 0, fitted)
        self._set_fitted({**fitted, "shards_": shards, "shard_sizes_": parts.sizes,
                          "offsets_": tuple(parts.offsets(0)), "n_samples_fit_": parts.n,
                          "_dask_input": is_dask(X)})
        return self

    def partial_fit(self, X: Any, y: Any = None):
        """Append the rows of X as new shards (ids continue after ``n_samples_fit_``).

        On an unfitted estimator this is :meth:`fit`. The existing shards are
        not touched.
        """
        if not hasattr(self, "shards_"):
            return self.fit(X)
        self._check_params()
        X, _ = self._validate_input(X, reset=False)
        client = self._fitted_client()
        parts = partition(X, self.n_shards, max(1, len(client.nthreads())))
        state = {k: v for k, v in vars(self).items() if self._is_fitted_attr(k)}
        new = self._build_shards(client, parts, self.n_samples_fit_, state)
        self._update_fitted({
            "shards_": [*self.shards_, *new],
            "shard_sizes_": (*self.shard_sizes_, *parts.sizes),
            "offsets_": (*self.offsets_, *parts.offsets(self.n_samples_fit_)),
            "n_samples_fit_": self.n_samples_fit_ + parts.n})
        return self

    # ------------------------------------------------------------- queries
    def _resolve_k(self, n_neighbors: int | None) -> int:
        return check_n_neighbors(self.n_neighbors if n_neighbors is None else n_neighbors)

    def _check_k(self, k: int, query_is_train: bool, n_queries: Any) -> None:
        n_fit = self.n_samples_fit_
        if k + query_is_train > n_fit:
            op = "<" if query_is_train else "<="
            raise ValueError(
                f"Expected n_neighbors {op} n_samples_fit, but n_neighbors = {k}, "
                f"n_samples_fit = {n_fit}, n_samples = {n_queries}")

    def kneighbors(self, X: Any = None, n_neighbors: int | None = None,
                   return_distance: bool = True):
        """Exact k nearest neighbours (global row ids), merged over every shard.

        Parameters
        ----------
        X : ndarray or dask array of shape (n_queries, n_features), default=None
            Query points; a dask array gives dask arrays back (lazy, one
            chunk per query chunk). None means the fitted rows, each excluding
            itself (dask arrays back when the fit was on a dask collection).
        n_neighbors : int, default=None
            Number of neighbours (default: the constructor's ``n_neighbors``).
        return_distance : bool, default=True
            Whether to return the distances.

        Returns
        -------
        neigh_dist : ndarray or dask array of shape (n_queries, n_neighbors)
            float64, rows ascending. Only if ``return_distance``.
        neigh_ind : ndarray or dask array of shape (n_queries, n_neighbors)
            Global row ids; among equal distances the smaller id first.
        """
        check_is_fitted(self)
        k = self._resolve_k(n_neighbors)
        if X is None:
            self._check_k(k, True, self.n_samples_fit_)
            dist, ind = self._knn_output(
                lambda tasks: plan.knn_fitted(tasks, self.offsets_, k),
                self.shard_sizes_, k, self._dask_input)
        else:
            Q, _ = self._validate_input(X, reset=False)
            self._check_k(k, False, Q.shape[0])
            blocks, sizes = query_blocks(Q, self.query_block_size)
            dist, ind = self._knn_output(
                lambda tasks: [plan.knn_block(tasks, b, k) for b in blocks], sizes, k,
                is_dask(Q))
        return (dist, ind) if return_distance else ind

    def _answers(self, make: Callable[[Any], list[Any]], lazy: bool) -> list[Any]:
        """The answers of ``make(tasks)``: a lazy graph, or computed on pinned tasks."""
        client = self._fitted_client()
        if lazy:
            return make(LazyTasks(self.shards_, shard_holders(client, self.shards_)))
        return run_pinned(client, self.shards_, make)

    def _knn_output(self, make: Callable[[Any], list[Any]], sizes: tuple[int, ...], k: int,
                    lazy: bool) -> tuple[Any, Any]:
        """Concatenated per-block answers: dask arrays if ``lazy``, else numpy."""
        answers = self._answers(make, lazy)
        if lazy:
            dist = [da.from_delayed(delayed(S.pick, pure=True)(a, 0), (n, k), np.float64)
                    for a, n in zip(answers, sizes, strict=True)]
            ind = [da.from_delayed(delayed(S.pick, pure=True)(a, 1), (n, k), np.intp)
                   for a, n in zip(answers, sizes, strict=True)]
            return da.concatenate(dist, axis=0), da.concatenate(ind, axis=0)
        return (np.concatenate([d for d, _ in answers], axis=0),
                np.concatenate([i for _, i in answers], axis=0).astype(np.intp, copy=False))

    def radius_neighbors(self, X: Any = None, radius: float | None = None,
                         return_distance: bool = True, sort_results: bool = False):
        """Every fitted row within ``radius`` (inclusive) of each query, merged over shards.

        Parameters
        ----------
        X : ndarray or dask array of shape (n_queries, n_features), default=None
            Query points (a dask array is computed: the rows have different
            lengths); None means the fitted rows, each excluding itself.
        radius : float, default=None
            Radius (default: the constructor's ``radius``).
        return_distance : bool, default=True
        sort_results : bool, default=False
            Rows are always sorted by distance, then id; kept for API
            compatibility (requires ``return_distance``).

        Returns
        -------
        neigh_dist : ndarray of shape (n_queries,), dtype=object
            Only if ``return_distance``.
        neigh_ind : ndarray of shape (n_queries,), dtype=object
        """
        check_is_fitted(self)
        if sort_results and not return_distance:
            raise ValueError("return_distance must be True if sort_results is True.")
        r = check_radius_param(self.radius if radius is None else radius)
        if X is None:
            answers = self._answers(lambda tasks: plan.radius_fitted(tasks, self.offsets_, r),
                                    False)
        else:
            Q, _ = self._validate_input(X, reset=False)
            blocks, _ = query_blocks(Q, self.query_block_size)
            answers = self._answers(lambda tasks: [plan.radius_block(tasks, b, r)
                                                   for b in blocks], is_dask(Q))
            if is_dask(Q):
                client = self._fitted_client()
                answers = client.gather(client.compute(answers))
        neigh_dist, neigh_ind = [], []
        for indptr, d, i in answers:
            for a, b in zip(indptr[:-1], indptr[1:], strict=True):
                neigh_dist.append(d[a:b])
                neigh_ind.append(i[a:b].astype(np.intp, copy=False))
        dist_out = np.empty(len(neigh_ind), dtype=object)
        ind_out = np.empty(len(neigh_ind), dtype=object)
        dist_out[:], ind_out[:] = neigh_dist, neigh_ind
        return (dist_out, ind_out) if return_distance else ind_out

    # ------------------------------------------------------------- gathering
    def fitted_rows(self) -> np.ndarray:
        """Gather every fitted row to the client (float64, global id order)."""
        check_is_fitted(self)
        return np.concatenate(self._answers(plan.shard_rows, False), axis=0)

    def shard_workers(self) -> list[set[str]]:
        """The worker addresses holding each shard (diagnostics)."""
        check_is_fitted(self)
        where = self._fitted_client().who_has(self.shards_)
        return [set(where.get(s.key, ())) for s in self.shards_]

    def __getstate__(self) -> dict[str, Any]:
        if "shards_" in vars(self):
            raise TypeError(f"a fitted {type(self).__name__} holds futures on a cluster and "
                            "does not pickle: call to_local() for a single-machine estimator")
        return super().__getstate__()
