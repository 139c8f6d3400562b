"""CoverTreeKNeighborsClassifier: k-NN vote on exact cover-tree neighbours."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ._common import check_n_neighbors, validate
from ._weights import check_weights, neighbor_weights
from ._wrapped import _NeighborsWrapper


class CoverTreeKNeighborsClassifier(ClassifierMixin, _NeighborsWrapper):
    """k-nearest-neighbours classifier on exact cover-tree neighbours (Euclidean).

    Same predictions, probabilities and scores as
    :class:`sklearn.neighbors.KNeighborsClassifier` with the Euclidean metric
    (up to neighbours tied at equal distance, where the smaller training
    index wins here). Supports :meth:`partial_fit` (batch insertion).

    Parameters
    ----------
    n_neighbors : int, default=5
    weights : {"uniform", "distance"} or callable, default="uniform"
        ``"distance"`` weighs by inverse distance (a row with an exact match
        gives all weight to the exact matches); a callable maps the distance
        array to a weight array of the same shape.
    backend, traversal, conflict_graph, batch_order, n_jobs, random_state
        As in :class:`CoverTreeNeighbors`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
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
        X, y = validate(self, X, y, reset=reset)
        check_classification_targets(y)
        return X, y

    def fit(self, X: Any, y: Any) -> CoverTreeKNeighborsClassifier:
        """Fit on training data X with labels y.

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
        self.classes_, self._y = np.unique(y, return_inverse=True)
        self._sync_fitted(self._make_index().fit(X))
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> CoverTreeKNeighborsClassifier:
        """Add labelled samples (batch insertion into the fitted tree).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            Every label that will ever be seen; required on the first call
            if later calls may bring new labels. Ignored afterwards unless it
            disagrees with ``classes_``.

        Returns
        -------
        self
        """
        check_n_neighbors(self.n_neighbors)
        check_weights(self.weights)
        first = not hasattr(self, "_index")
        X, y = self._validate_Xy(X, y, reset=first)
        if first:
            all_classes = np.unique(y) if classes is None else np.unique(classes)
        else:
            all_classes = self.classes_
            if classes is not None and not np.array_equal(np.unique(classes), self.classes_):
                raise ValueError(
                    f"classes={classes!r} is not the same as on the first call to partial_fit "
                    f"({self.classes_!r})"
                )
        unknown = np.setdiff1d(y, all_classes)
        if unknown.size:
            raise ValueError(
                f"y contains labels {unknown.tolist()!r} not in classes {all_classes.tolist()!r}; "
                "pass every label with classes= on the first call to partial_fit"
            )
        codes = np.searchsorted(all_classes, y)
        if first:
            index = self._make_index().fit(X)
            self.classes_ = all_classes
            self._y = codes
        else:
            index = self._index.partial_fit(X)
            self._y = np.concatenate([self._y, codes])
        self._sync_fitted(index)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities: (weighted) share of each class among the k neighbours.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)

        Returns
        -------
        proba : ndarray of shape (n_queries, n_classes), rows sum to 1,
            columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        X = validate(self, X, reset=False)
        dist, ind = self._index._kneighbors(X, self.n_neighbors, True, self.n_jobs)
        w = neighbor_weights(dist, self.weights)
        labels = self._y[ind]
        proba = np.zeros((X.shape[0], self.classes_.shape[0]))
        rows = np.repeat(np.arange(X.shape[0]), ind.shape[1])
        np.add.at(proba, (rows, labels.ravel()), w.ravel())
        total = proba.sum(axis=1, keepdims=True)
        total[total == 0.0] = 1.0
        return proba / total

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class of each query (ties go to the first class in ``classes_``).

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)

        Returns
        -------
        y : ndarray of shape (n_queries,)
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
