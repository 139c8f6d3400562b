"""CoverTreeNeighbors: an exact, drop-in ``NearestNeighbors`` on a cover tree."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..api import CoverTree
from ._common import (
    build_progress,
    check_n_jobs,
    check_n_neighbors,
    check_radius_param,
    make_runtime,
    query_threads,
    validate,
)
from ._queries import NeighborsQueryMixin


class CoverTreeNeighbors(NeighborsQueryMixin, BaseEstimator):
    """Exact unsupervised nearest neighbours (Euclidean) on a parallel compressed cover tree.

    A drop-in replacement for :class:`sklearn.neighbors.NearestNeighbors`
    (Euclidean metric): same methods, same results up to the order of ties
    at equal distance (here the smaller index comes first), distances in
    float64. The fitted tree can be grown with :meth:`partial_fit` (batch
    insertion, no rebuild).

    Parameters
    ----------
    n_neighbors : int, default=5
        Number of neighbours for :meth:`kneighbors` by default.
    radius : float, default=1.0
        Radius for :meth:`radius_neighbors` by default.
    backend : {"auto", "numba", "numpy"}, default="auto"
        Kernel backend; "auto" uses numba when available.
    traversal : {"sparse", "dense"}, default="sparse"
        How inserted points find their place in the tree.
    conflict_graph : {"segmented", "dense", "grid", "tree"}, default="segmented"
        How conflicts between points inserted together are found (changes
        build time only: "segmented" or "grid" in low dimension, "tree" in
        higher intrinsic dimension).
    batch_order : {"random", "natural", "hilbert"}, default="random"
        Order of points in the prefix-doubling insertion batches.
    n_jobs : int, default=None
        Threads for queries and builds. ``None`` means the ``n_jobs`` of an
        enclosing ``joblib.parallel_backend`` context, else every core; an
        OpenMP limit from ``threadpoolctl.threadpool_limits`` caps it.
        ``-1`` means every core.
    random_state : int, RandomState instance or None, default=None
        Seeds the batch order and the independent-set priorities. Answers do
        not depend on it (they are exact); only the tree's shape does.
    verbose : bool, default=False
        Print a progress bar (tqdm, if installed) while building large trees.

    Attributes
    ----------
    tree_ : CoverTree
        The fitted tree (immutable; see :class:`sklearn_covertreex.CoverTree`).
    n_samples_fit_ : int
        Number of samples in the fitted data.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.
    effective_metric_ : str
        Always ``"euclidean"``.
    effective_metric_params_ : dict
        Always empty.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_covertreex import CoverTreeNeighbors
    >>> X = np.array([[0.0], [1.0], [3.0]])
    >>> nn = CoverTreeNeighbors(n_neighbors=2).fit(X)
    >>> nn.kneighbors([[0.9]])
    (array([[0.1, 0.9]]), array([[1, 0]]))
    """

    def __init__(self, n_neighbors: int = 5, radius: float = 1.0, *, backend: str = "auto",
                 traversal: str = "sparse", conflict_graph: str = "segmented",
                 batch_order: str = "random", n_jobs: int | None = None,
                 random_state: Any = None, verbose: bool = False) -> None:
        self.n_neighbors = n_neighbors
        self.radius = radius
        self.backend = backend
        self.traversal = traversal
        self.conflict_graph = conflict_graph
        self.batch_order = batch_order
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False
        return tags

    # ---------------------------------------------------------------- fitting
    def _check_params(self) -> None:
        check_n_neighbors(self.n_neighbors)
        check_radius_param(self.radius)

    def _validate_X(self, X: Any, *, reset: bool) -> np.ndarray:
        return validate(self, X, reset=reset)

    def fit(self, X: Any, y: Any = None) -> CoverTreeNeighbors:
        """Build the tree on X.

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
        runtime = make_runtime(self)
        X = self._validate_X(X, reset=True)
        with build_progress(self.verbose, X.shape[0], "fit") as progress:
            self.tree_ = CoverTree(runtime).fit(X, progress=progress)
        self.n_samples_fit_ = X.shape[0]
        self.effective_metric_ = "euclidean"
        self.effective_metric_params_: dict[str, Any] = {}
        return self

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
        make_runtime(self, draw_seed=False)  # validate parameters before touching state
        X = self._validate_X(X, reset=False)
        with build_progress(self.verbose, X.shape[0], "partial_fit") as progress:
            tree = self.tree_.insert(X, progress=progress)
        self.tree_ = tree
        self.n_samples_fit_ = tree.n_points
        return self

    # ---------------------------------------------------------------- queries
    def _query_tree(self, n_jobs: int | None) -> CoverTree:
        """The fitted tree with the given thread setting (no state is stored)."""
        check_n_jobs(n_jobs)
        runtime = self.tree_.runtime.replace(n_jobs=query_threads(n_jobs))
        return CoverTree(runtime, _arrays=self.tree_.arrays)

    def _fit_X(self) -> np.ndarray:
        arrays = self.tree_.arrays
        return np.asarray(arrays.points)[arrays.node_of_id()]

    def kneighbors(self, X: Any = None, n_neighbors: int | None = None,
                   return_distance: bool = True):
        """Find the k nearest neighbours of each query point.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), default=None
            Query points. If None, the neighbours of each training point are
            returned, the point itself excluded.
        n_neighbors : int, default=None
            Number of neighbours (default: the constructor's ``n_neighbors``).
        return_distance : bool, default=True
            Whether to return the distances.

        Returns
        -------
        neigh_dist : ndarray of shape (n_queries, n_neighbors), float64
            Distances, each row ascending. Only if ``return_distance``.
        neigh_ind : ndarray of shape (n_queries, n_neighbors), intp
            Indices of the neighbours in the fitted data.
        """
        return self._kneighbors(X, n_neighbors, return_distance, self.n_jobs)

    def _kneighbors(self, X: Any, n_neighbors: int | None, return_distance: bool,
                    n_jobs: int | None):
        check_is_fitted(self)
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        k = check_n_neighbors(k)
        n_fit = self.n_samples_fit_
        query_is_train = X is None
        if query_is_train:
            Q = self._fit_X()
            k += 1
        else:
            Q = self._validate_X(X, reset=False)
        if k > n_fit:
            op = "<" if query_is_train else "<="
            shown = k - 1 if query_is_train else k
            raise ValueError(
                f"Expected n_neighbors {op} n_samples_fit, but n_neighbors = {shown}, "
                f"n_samples_fit = {n_fit}, n_samples = {Q.shape[0]}"
            )
        dist, ind = self._query_tree(n_jobs).knn(Q, k)
        if query_is_train:
            # drop each point itself; if duplicates pushed it out, drop column 0
            sample_mask = ind != np.arange(Q.shape[0])[:, None]
            no_self = np.all(sample_mask, axis=1)
            sample_mask[:, 0][no_self] = False
            ind = ind[sample_mask].reshape(Q.shape[0], k - 1)
            dist = dist[sample_mask].reshape(Q.shape[0], k - 1)
        if return_distance:
            return dist, ind
        return ind

    def _radius_csr(self, X: Any, radius: float | None):
        """(indptr, distances, indices) within the radius, rows sorted; X=None drops self."""
        r = check_radius_param(self.radius if radius is None else radius)
        query_is_train = X is None
        Q = self._fit_X() if query_is_train else self._validate_X(X, reset=False)
        indptr, dist, ind = self._query_tree(self.n_jobs).radius(Q, r)
        if query_is_train:
            row = np.repeat(np.arange(Q.shape[0]), np.diff(indptr))
            keep = ind != row
            counts = np.bincount(row[keep], minlength=Q.shape[0])
            dist, ind = dist[keep], ind[keep]
            indptr = np.zeros(Q.shape[0] + 1, dtype=np.int64)
            np.cumsum(counts, out=indptr[1:])
        return indptr, dist, ind

