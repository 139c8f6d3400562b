"""CoverTreeKNeighborsTransformer: sparse k-NN graphs for precomputed-metric estimators."""

from __future__ import annotations

from typing import Any

from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._params import document_params
from ._queries import _check_mode
from ._wrapped import _NeighborsWrapper


@document_params
class CoverTreeKNeighborsTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                                     _NeighborsWrapper):
    """Transform X into an exact sparse k-NN graph, like ``KNeighborsTransformer``.

    The output feeds estimators that accept ``metric="precomputed"`` sparse
    graphs (``KNeighborsClassifier``, ``DBSCAN``, ``TSNE``, ``Isomap``,
    ``SpectralClustering``...) exactly as scikit-learn's own
    :class:`~sklearn.neighbors.KNeighborsTransformer` does: in
    ``mode="distance"`` each row holds ``n_neighbors + 1`` entries, the
    point itself (an explicit zero) included, rows sorted by distance.
    :meth:`kneighbors` and :meth:`kneighbors_graph` are available too.

    Parameters
    ----------
    mode : {"distance", "connectivity"}, default="distance"
        Distances or ones as graph values.
    %(n_neighbors)s
    %(backend)s
    %(traversal)s
    %(conflict_graph)s
    %(batch_order)s
    %(n_jobs)s
    %(random_state)s

    Attributes
    ----------
    n_samples_fit_ : int
        Number of training samples.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.
    tree_ : CoverTree
        The fitted tree.
    """

    _parameter_checks = {**_NeighborsWrapper._parameter_checks, "mode": _check_mode}
    _private_fitted = (*_NeighborsWrapper._private_fitted, "_n_features_out")

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

        Every parameter and X are checked before anything changes: if the
        call fails, the estimator keeps its previous fitted state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self : CoverTreeKNeighborsTransformer
        """
        self._check_params()
        X, seen = self._validate_fit(X)
        self._fit_wrapped(X, seen, _n_features_out=X.shape[0])
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
        add_one = self.mode == "distance"
        return self._kneighbors_graph(self._validate_more(X), self._resolve_k(None) + add_one,
                                      self.mode)

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
