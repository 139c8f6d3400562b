"""CoverTreeKNeighborsRegressor: k-NN average on exact cover-tree neighbours."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ._common import check_n_neighbors, validate
from ._weights import check_weights, neighbor_weights
from ._wrapped import _NeighborsWrapper


class CoverTreeKNeighborsRegressor(RegressorMixin, _NeighborsWrapper):
    """k-nearest-neighbours regressor on exact cover-tree neighbours (Euclidean).

    Same predictions and scores as :class:`sklearn.neighbors.KNeighborsRegressor`
    with the Euclidean metric (up to neighbours tied at equal distance).
    Targets are one-dimensional. Supports :meth:`partial_fit`.

    Parameters
    ----------
    n_neighbors : int, default=5
    weights : {"uniform", "distance"} or callable, default="uniform"
    backend, traversal, conflict_graph, batch_order, n_jobs, random_state
        As in :class:`CoverTreeNeighbors`.

    Attributes
    ----------
    n_samples_fit_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray
        When X has string column names.
    tree_ : CoverTree
    """

    def __init__(self, n_neighbors: int = 5, *, weights: Any = "uniform", backend: str = "auto",
                 traversal: str = "sparse", conflict_graph: str = "segmented",
                 batch_order: str = "random", n_jobs: int | None = None,
                 random_state: Any = None) -> None:
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.backend = backend
        self.traversal = traversal
        self.conflict_graph = conflict_graph
        self.batch_order = batch_order
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _validate_Xy(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        return validate(self, X, y, reset=reset, y_numeric=True)

    def fit(self, X: Any, y: Any) -> CoverTreeKNeighborsRegressor:
        """Fit on training data X with targets y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        check_n_neighbors(self.n_neighbors)
        check_weights(self.weights)
        X, y = self._validate_Xy(X, y, reset=True)
        self._y = np.asarray(y, dtype=np.float64)
        self._sync_fitted(self._make_index().fit(X))
        return self

    def partial_fit(self, X: Any, y: Any) -> CoverTreeKNeighborsRegressor:
        """Add samples (batch insertion into the fitted tree).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        if not hasattr(self, "_index"):
            return self.fit(X, y)
        check_n_neighbors(self.n_neighbors)
        check_weights(self.weights)
        X, y = self._validate_Xy(X, y, reset=False)
        index = self._index.partial_fit(X)
        self._y = np.concatenate([self._y, np.asarray(y, dtype=np.float64)])
        self._sync_fitted(index)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """(Weighted) mean target of the k nearest neighbours.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)

        Returns
        -------
        y : ndarray of shape (n_queries,)
        """
        check_is_fitted(self)
        X = validate(self, X, reset=False)
        dist, ind = self._index._kneighbors(X, self.n_neighbors, True, self.n_jobs)
        w = neighbor_weights(dist, self.weights)
        return np.sum(self._y[ind] * w, axis=1) / np.sum(w, axis=1)
