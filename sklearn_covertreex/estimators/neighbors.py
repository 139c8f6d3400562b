"""CoverTreeNeighbors: an exact, drop-in ``NearestNeighbors`` on a cover tree."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..api import CoverTree
from ._base import _CoverTreeBase
from ._common import build_progress, make_runtime, query_threads
from ._metric import check_metric_strategies, make_tree_params, resolve_metric
from ._params import document_params
from ._queries import KNeighborsQueryMixin, RadiusQueryMixin, VecchiaQueryMixin


@document_params
class CoverTreeNeighbors(VecchiaQueryMixin, RadiusQueryMixin, KNeighborsQueryMixin,
                         _CoverTreeBase):
    """Exact unsupervised nearest neighbours on a parallel compressed cover tree.

    A drop-in replacement for :class:`sklearn.neighbors.NearestNeighbors`,
    for every true metric it accepts (and cosine, correlation, sqeuclidean
    and metrics of your own): same methods, same results up to the order of
    ties at equal distance (here the smaller index comes first), distances
    in float64. The fitted tree can be grown with :meth:`partial_fit` (batch
    insertion, no rebuild); :meth:`vecchia_neighbors` gives each training
    row's nearest earlier rows.

    Parameters
    ----------
    %(n_neighbors)s
    %(radius)s
    %(metric)s
    %(p)s
    %(metric_params)s
    %(backend)s
    %(construction)s
    %(traversal)s
    %(conflict_graph)s
    %(batch_order)s
    %(n_jobs)s
    %(random_state)s
    %(verbose)s

    Attributes
    ----------
    %(tree_)s
    %(n_samples_fit_)s
    %(n_features_in_)s
    %(feature_names_in_)s
    %(effective_metric_)s
    %(effective_metric_params_)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_covertreex import CoverTreeNeighbors
    >>> X = np.array([[0.0], [1.0], [3.0]])
    >>> nn = CoverTreeNeighbors(n_neighbors=2).fit(X)
    >>> nn.kneighbors([[0.9]])
    (array([[0.1, 0.9]]), array([[1, 0]]))
    """

    def __init__(self, n_neighbors: int = 5, radius: float = 1.0, *, metric: Any = "minkowski",
                 p: float = 2, metric_params: dict | None = None, backend: str = "auto",
                 construction: str = "auto",
                 traversal: str = "sparse", conflict_graph: str = "segmented",
                 batch_order: str = "random", n_jobs: int | None = None,
                 random_state: Any = None, verbose: bool = False) -> None:
        self.n_neighbors = n_neighbors
        self.radius = radius
        self.metric = metric
        self.p = p
        self.metric_params = metric_params
        self.backend = backend
        self.construction = construction
        self.traversal = traversal
        self.conflict_graph = conflict_graph
        self.batch_order = batch_order
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # ---------------------------------------------------------------- fitting
    def fit(self, X: Any, y: Any = None) -> CoverTreeNeighbors:
        """Build the tree on X.

        Every parameter and X are checked before anything changes: if the
        call fails, the estimator keeps its previous fitted state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (dense; sparse input is rejected).
        y : ignored
            Not used, present for API consistency.

        Returns
        -------
        self : CoverTreeNeighbors
        """
        self._check_params()
        X, seen = self._validate_fit(X)
        self._set_fitted({**seen, **self._build(X)})
        return self

    def _build(self, X: np.ndarray) -> dict[str, Any]:
        """The fitted state of a tree built on validated X (``self`` is not changed)."""
        runtime = make_runtime(self)
        resolved = resolve_metric(self.metric, self.p, self.metric_params)
        check_metric_strategies(resolved, self.conflict_graph, self.batch_order)
        make_tree_params(resolved, X.shape[1])
        with build_progress(self.verbose, X.shape[0], "fit") as progress:
            tree = CoverTree(runtime, metric=resolved.tree_metric,
                             metric_params=resolved.tree_params).fit(X, progress=progress)
        return {"tree_": tree, "n_samples_fit_": X.shape[0],
                "effective_metric_": resolved.effective_metric,
                "effective_metric_params_": resolved.effective_metric_params}

    def partial_fit(self, X: Any, y: Any = None) -> CoverTreeNeighbors:
        """Add the rows of X to the fitted tree (batch insertion, no rebuild).

        New rows get the indices ``n_samples_fit_, n_samples_fit_ + 1, ...``.
        On an unfitted estimator this is :meth:`fit`. If the call fails, the
        fitted state is left exactly as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self : CoverTreeNeighbors
        """
        if not hasattr(self, "tree_"):
            return self.fit(X)
        self._check_params()
        self._update_fitted(self._grow(self._validate_more(X)))
        return self

    def _grow(self, X: np.ndarray) -> dict[str, Any]:
        """The fitted attributes that change when validated X is inserted (``self`` is not)."""
        with build_progress(self.verbose, X.shape[0], "partial_fit") as progress:
            tree = self.tree_.insert(X, progress=progress)
        return {"tree_": tree, "n_samples_fit_": tree.n_points}

    # ---------------------------------------------------------------- queries
    def _query_tree(self, n_jobs: int | None) -> CoverTree:
        """The fitted tree with the given thread setting (no state is stored)."""
        return self.tree_.with_runtime(self.tree_.runtime.replace(n_jobs=query_threads(n_jobs)))

    _vecchia_index = _query_tree

    def _kneighbors(self, Q: np.ndarray | None, k: int, return_distance: bool,
                    n_jobs: int | None):
        """k-NN of validated queries ``Q`` (None: the training points, self excluded)."""
        n_fit = self.n_samples_fit_
        query_is_train = Q is None
        if k + query_is_train > n_fit:
            op = "<" if query_is_train else "<="
            raise ValueError(
                f"Expected n_neighbors {op} n_samples_fit, but n_neighbors = {k}, "
                f"n_samples_fit = {n_fit}, n_samples = {n_fit if query_is_train else Q.shape[0]}"
            )
        tree = self._query_tree(n_jobs)
        if query_is_train:
            dist, ind = tree.knn_self(k)
        else:
            dist, ind = tree.knn(np.asarray(Q, dtype=np.float64), k, check_input=False)
        if return_distance:
            return dist, ind
        return ind

    def _radius_csr(self, Q: np.ndarray | None, r: float):
        """(indptr, distances, indices) within ``r`` of validated Q; Q=None drops self."""
        tree = self._query_tree(self.n_jobs)
        if Q is None:
            return tree.radius_self(r)
        return tree.radius(np.asarray(Q, dtype=np.float64), r, check_input=False)
