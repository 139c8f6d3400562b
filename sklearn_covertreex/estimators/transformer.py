"""CoverTreeKNeighborsTransformer: sparse k-NN graphs for precomputed-metric estimators."""

from __future__ import annotations

from typing import Any

from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._common import check_n_neighbors, validate
from ._wrapped import _NeighborsWrapper


class CoverTreeKNeighborsTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                                     _NeighborsWrapper):
    """Transform X into an exact sparse k-NN graph, like ``KNeighborsTransformer``.

    The output feeds estimators that accept ``metric="precomputed"`` sparse
    graphs (``KNeighborsClassifier``, ``DBSCAN``, ``TSNE``, ``Isomap``,
    ``SpectralClustering``...) exactly as scikit-learn's own
    :class:`~sklearn.neighbors.KNeighborsTransformer` does: in
    ``mode="distance"`` each row holds ``n_neighbors + 1`` entries, the
    point itself (an explicit zero) included, rows sorted by distance.

    Parameters
    ----------
    mode : {"distance", "connectivity"}, default="distance"
        Distances or ones as graph values.
    n_neighbors : int, default=5
        Neighbours per sample (plus the sample itself in distance mode).
    backend, traversal, conflict_graph, batch_order, n_jobs, random_state
        As in :class:`CoverTreeNeighbors`.

    Attributes
    ----------
    n_samples_fit_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray
        When X has string column names.
    tree_ : CoverTree
        The fitted tree.
    """

    def __init__(self, *, mode: str = "distance", n_neighbors: int = 5, backend: str = "auto",
                 traversal: str = "sparse", conflict_graph: str = "segmented",
                 batch_order: str = "random", n_jobs: int | None = None,
                 random_state: Any = None) -> None:
        self.mode = mode
        self.n_neighbors = n_neighbors
        self.backend = backend
        self.traversal = traversal
        self.conflict_graph = conflict_graph
        self.batch_order = batch_order
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> CoverTreeKNeighborsTransformer:
        """Build the tree on X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self
        """
        if self.mode not in ("distance", "connectivity"):
            raise ValueError(
                f"mode must be 'distance' or 'connectivity', got {self.mode!r}"
            )
        check_n_neighbors(self.n_neighbors)
        X = validate(self, X)
        index = self._make_index().fit(X)
        self._sync_fitted(index)
        self._n_features_out = self.n_samples_fit_
        return self

    def transform(self, X: Any):
        """The k-NN graph of X against the fitted points.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)

        Returns
        -------
        Xt : sparse matrix of shape (n_queries, n_samples_fit_)
            ``n_neighbors (+ 1 in distance mode)`` entries per row, in
            neighbour order, explicit zeros kept.
        """
        check_is_fitted(self)
        X = validate(self, X, reset=False)
        add_one = self.mode == "distance"
        return self._index._kneighbors_graph(
            X, self.n_neighbors + add_one, self.mode, self.n_jobs
        )

    def fit_transform(self, X: Any, y: Any = None):
        """``fit(X).transform(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        Xt : sparse matrix of shape (n_samples, n_samples)
        """
        return self.fit(X).transform(X)
