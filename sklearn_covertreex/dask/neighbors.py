"""DaskCoverTreeNeighbors: the exact cover tree (any metric it serves), sharded over Dask."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..api import CoverTree
from ..estimators._common import make_runtime
from ..estimators._metric import check_metric_strategies, make_tree_params, resolve_metric
from ..estimators.neighbors import CoverTreeNeighbors
from ..runtime import Runtime
from ._base import _DaskShardedBase
from ._params import document_dask


def fit_cover_tree(runtime: Runtime, metric: Any, p: Any, metric_params: dict | None,
                   rows: np.ndarray, threads: int) -> CoverTree:
    """A shard's tree (local ids), built with ``threads`` kernel threads (runs on a worker).

    The metric parameters are resolved here, on the worker, exactly as
    :class:`~sklearn_covertreex.CoverTreeNeighbors` resolves them.
    """
    resolved = resolve_metric(metric, p, metric_params)
    return CoverTree(runtime.replace(n_jobs=threads), metric=resolved.tree_metric,
                     metric_params=resolved.tree_params).fit(rows)


def cover_tree_rows(tree: CoverTree) -> np.ndarray:
    """The tree's rows in id order (the shard's query block for fitted-row answers)."""
    return tree.fitted_rows()[1]


@document_dask
class DaskCoverTreeNeighbors(_DaskShardedBase):
    """Exact nearest neighbours on cover trees sharded over a Dask cluster, for any metric.

    The rows are split into shards (a dask array's row chunks, or
    ``n_shards`` pieces of an in-memory array); each shard's
    :class:`~sklearn_covertreex.CoverTree` is built on the worker holding
    that partition and stays there. A query block travels to every shard,
    each shard answers it exactly, and the (distance, id) lists are merged
    pairwise on the workers with :func:`~sklearn_covertreex.merge_knn`: the
    answers equal :class:`~sklearn_covertreex.CoverTreeNeighbors` on the
    same data, for any sharding, ties included (distance, then the smaller
    global row id). A worker lost during a query is survived: the scheduler
    rebuilds its shards from their partitions and the query completes.
    ``metric``, ``p`` and ``metric_params`` are those of
    :class:`~sklearn_covertreex.CoverTreeNeighbors` (a metric of your own
    must be a module-level function, so that it pickles to the workers).

    Parameters
    ----------
    %(n_neighbors)s
    %(radius)s
    %(metric)s
    %(p)s
    %(metric_params)s
    %(n_shards)s
    %(query_block_size)s
    %(client)s
    %(backend)s
    %(construction)s
    %(traversal)s
    %(conflict_graph)s
    %(batch_order)s
    %(n_jobs)s
    %(random_state)s

    Attributes
    ----------
    %(shards_)s
    %(shard_sizes_)s
    %(offsets_)s
    %(n_samples_fit_)s
    %(n_features_in_)s
    %(feature_names_in_)s
    effective_metric_ : str or callable
        The metric, as :class:`~sklearn_covertreex.CoverTreeNeighbors` reports it.
    effective_metric_params_ : dict
        Its parameters, likewise.

    Examples
    --------
    >>> import numpy as np
    >>> from distributed import Client, LocalCluster
    >>> from sklearn_covertreex.dask import DaskCoverTreeNeighbors
    >>> with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, \\
    ...         Client(cluster) as client:                       # doctest: +SKIP
    ...     X = np.random.default_rng(0).normal(size=(10_000, 3))
    ...     nn = DaskCoverTreeNeighbors(n_neighbors=4).fit(X)
    ...     dist, ind = nn.kneighbors(X[:5])
    """

    def __init__(self, n_neighbors: int = 5, radius: float = 1.0, *,
                 metric: Any = "minkowski", p: float = 2,
                 metric_params: dict | None = None, n_shards: int | None = None,
                 query_block_size: int = 16384,
                 client: Any = None, backend: str = "auto", construction: str = "auto",
                 traversal: str = "sparse",
                 conflict_graph: str = "segmented", batch_order: str = "random",
                 n_jobs: int | None = None, random_state: Any = None) -> None:
        self.n_neighbors = n_neighbors
        self.radius = radius
        self.metric = metric
        self.p = p
        self.metric_params = metric_params
        self.n_shards = n_shards
        self.query_block_size = query_block_size
        self.client = client
        self.backend = backend
        self.construction = construction
        self.traversal = traversal
        self.conflict_graph = conflict_graph
        self.batch_order = batch_order
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _prepare_fit(self, X: Any, n: int) -> dict[str, Any]:
        resolved = resolve_metric(self.metric, self.p, self.metric_params)
        check_metric_strategies(resolved, self.conflict_graph, self.batch_order)
        make_tree_params(resolved, X.shape[1])
        return {"effective_metric_": resolved.effective_metric,
                "effective_metric_params_": resolved.effective_metric_params,
                "_runtime": make_runtime(self).replace(n_jobs=None)}

    _private_fitted = (*_DaskShardedBase._private_fitted, "_runtime")

    def _shard_builder(self, fitted: dict[str, Any]):
        build = functools.partial(fit_cover_tree, fitted["_runtime"], self.metric, self.p,
                                  self.metric_params)
        return build, cover_tree_rows

    def to_local(self) -> CoverTreeNeighbors:
        """One :class:`~sklearn_covertreex.CoverTreeNeighbors` on all the fitted rows.

        The rows are gathered to the client (they must fit in its memory) and
        one tree is built on them, with the same parameters; its answers
        equal this estimator's.
        """
        params = {name: getattr(self, name) for name in CoverTreeNeighbors._get_param_names()
                  if hasattr(self, name)}
        return CoverTreeNeighbors(**params).fit(self.fitted_rows())
