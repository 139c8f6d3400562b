"""DaskResidualNeighbors: the residual-correlation search, sharded over a Dask cluster."""

from __future__ import annotations

import functools
import numbers
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..engines.residual import (
    ResidualIndex,
    build_index,
    check_choices,
    residual_points,
    resolve_algorithm,
)
from ..estimators.residual import ResidualCoverTreeNeighbors
from ..metrics.residual import INDUCING_SELECTIONS, ResidualModel, default_kernel
from ..runtime import Runtime
from . import plan
from ._base import _DaskShardedBase
from ._params import document_dask
from .partition import is_dask


def fit_residual_index(runtime: Runtime, model: ResidualModel, algorithm: str, backend: str,
                       rows: np.ndarray, threads: int) -> ResidualIndex:
    """A shard's residual index (local ids) on ``rows`` (runs on a worker)."""
    runtime = runtime.replace(n_jobs=threads)
    return build_index(runtime, model, residual_points(runtime, model, rows), algorithm, None,
                       backend)


def residual_rows(index: ResidualIndex) -> np.ndarray:
    """The shard's rows as given (float64, id order)."""
    return index.points.X


@document_dask
class DaskResidualNeighbors(_DaskShardedBase):
    """Exact residual-correlation neighbours, sharded over a Dask cluster.

    The metric is :class:`~sklearn_covertreex.ResidualCoverTreeNeighbors`'s
    (see there for the kernel, inducing points and jitter): the model (kernel,
    inducing points, Cholesky factor) is fitted once on the client from the
    inducing points (``"random"`` selection reads only those rows), and each
    shard's residual statistics and engine are built on the worker holding
    that partition. Query blocks (query blocks × data shards) are answered by
    the existing compiled (or GPU) brute force on each worker and merged
    exactly. :meth:`vecchia_neighbors` takes shard order as the Vecchia
    order: a row's predecessors are the earlier rows of its shard and every
    row of the earlier shards. Answers equal the single-machine estimator
    fitted on the same rows with the same parameters.

    Parameters
    ----------
    %(n_neighbors)s
    %(radius)s
    kernel : sklearn.gaussian_process.kernels.Kernel, default=None
        As in :class:`~sklearn_covertreex.ResidualCoverTreeNeighbors`.
    inducing_points : int or array-like of shape (m, n_features), default=512
        An int: that many rows chosen by ``inducing_selection`` (on dask
        input only ``"random"``, which gathers only the chosen rows).
    inducing_selection : {"random", "kmeans++"}, default="random"
    jitter : float, default=1e-6
    algorithm : {"auto", "brute", "tree"}, default="auto"
        Engine of each shard (as in the single-machine estimator).
    backend : {"auto", "numba", "numpy", "cupy"}, default="auto"
        Where each shard's brute force runs (``"cupy"``: a GPU per worker).
    %(n_shards)s
    %(query_block_size)s
    %(client)s
    %(construction)s
    traversal, conflict_graph, batch_order : str
        Tree strategies (``algorithm="tree"`` only).
    %(n_jobs)s
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of inducing points (as in the single-machine
        estimator, so the same seed chooses the same rows).

    Attributes
    ----------
    %(shards_)s
    %(shard_sizes_)s
    %(offsets_)s
    inducing_points_ : ndarray of shape (m, n_features)
    kernel_ : Kernel
    %(n_samples_fit_)s
    %(n_features_in_)s
    %(feature_names_in_)s
    """

    _dtype = np.float64
    _parameter_checks = {**ResidualCoverTreeNeighbors._parameter_checks,
                         **_DaskShardedBase._parameter_checks}
    _private_fitted = (*_DaskShardedBase._private_fitted, "_model", "_runtime", "_algorithm")
    _key_prefix = "residual-shard"
    _runtime_of = ResidualCoverTreeNeighbors._runtime

    def __init__(self, n_neighbors: int = 5, *, radius: float = 0.5, kernel: Any = None,
                 inducing_points: Any = 512, inducing_selection: str = "random",
                 jitter: float = 1e-6, algorithm: str = "auto", backend: str = "auto",
                 n_shards: int | None = None, query_block_size: int = 16384,
                 client: Any = None, construction: str = "auto",
                 traversal: str = "sparse", conflict_graph: str = "tree",
                 batch_order: str = "random", n_jobs: int | None = None,
                 random_state: Any = None) -> None:
        self.n_neighbors = n_neighbors
        self.radius = radius
        self.kernel = kernel
        self.inducing_points = inducing_points
        self.inducing_selection = inducing_selection
        self.jitter = jitter
        self.algorithm = algorithm
        self.backend = backend
        self.n_shards = n_shards
        self.query_block_size = query_block_size
        self.client = client
        self.construction = construction
        self.traversal = traversal
        self.conflict_graph = conflict_graph
        self.batch_order = batch_order
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _check_params(self) -> None:
        super()._check_params()
        check_choices(self.algorithm, self.backend)

    def _inducing(self, X: Any, n: int, rng: np.random.RandomState) -> np.ndarray:
        """The inducing points, drawn as the single-machine estimator draws them."""
        value = self.inducing_points
        if not isinstance(value, numbers.Integral):
            return ResidualCoverTreeNeighbors._inducing(self, X, rng)
        if is_dask(X) and self.inducing_selection != "random":
            raise ValueError(f"inducing_selection={self.inducing_selection!r} needs all the "
                             "rows in memory: use 'random' or pass inducing_points=<array>")
        m = min(int(value), n)
        idx = INDUCING_SELECTIONS.get(self.inducing_selection)(X, m, rng)
        rows = X[idx]
        return np.array(rows.compute() if is_dask(rows) else rows, dtype=np.float64)

    def _prepare_fit(self, X: Any, n: int) -> dict[str, Any]:
        rng = check_random_state(self.random_state)
        kernel = default_kernel() if self.kernel is None else clone(self.kernel)
        U = self._inducing(X, n, rng)
        runtime = self._runtime_of(int(rng.randint(np.iinfo(np.int32).max)), None)
        model = ResidualModel.fit(kernel, U, float(self.jitter))
        algorithm, _ = resolve_algorithm(self.algorithm, model, self.backend)
        return {"kernel_": kernel, "inducing_points_": model.inducing_points, "_model": model,
                "_runtime": runtime.replace(n_jobs=None), "_algorithm": algorithm}

    def _shard_builder(self, fitted: dict[str, Any]):
        build = functools.partial(fit_residual_index, fitted["_runtime"], fitted["_model"],
                                  fitted["_algorithm"], self.backend)
        return build, residual_rows

    def vecchia_neighbors(self, n_neighbors: int | None = None, *,
                          return_distance: bool = False):
        """Vecchia conditioning sets: each fitted row's k nearest rows with smaller ids.

        Rows with fewer than k predecessors are padded with id -1 and
        distance inf; dask arrays back when the fit was on a dask collection.

        Parameters
        ----------
        n_neighbors : int, default=None
        return_distance : bool, default=False

        Returns
        -------
        neigh_dist : ndarray or dask array of shape (n_samples_fit, k), float64
            Only if ``return_distance``.
        neigh_ind : ndarray or dask array of shape (n_samples_fit, k)
        """
        check_is_fitted(self)
        k = self._resolve_k(n_neighbors)
        dist, ind = self._knn_output(lambda tasks: plan.vecchia_fitted(tasks, k),
                                     self.shard_sizes_, k, self._dask_input)
        return (dist, ind) if return_distance else ind

    def to_local(self) -> ResidualCoverTreeNeighbors:
        """One :class:`~sklearn_covertreex.ResidualCoverTreeNeighbors` on all fitted rows.

        The rows are gathered to the client; the same kernel and inducing
        points are used, so the answers are this estimator's.
        """
        params = {name: getattr(self, name) for name in
                  ResidualCoverTreeNeighbors._get_param_names() if hasattr(self, name)}
        params.update(kernel=self.kernel_, inducing_points=self.inducing_points_)
        return ResidualCoverTreeNeighbors(**params).fit(self.fitted_rows())
