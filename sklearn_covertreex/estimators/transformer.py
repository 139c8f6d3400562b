"""CoverTreeKNeighborsTransformer: sparse k-NN graphs for precomputed-metric estimators."""

from __future__ import annotations

from typing import Any

import numpy as np
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

    Attributes
    ----------
    %(n_samples_fit_)s
    %(n_features_in_)s
    %(feature_names_in_)s
    %(tree_)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_covertreex import CoverTreeKNeighborsTransformer
    >>> X = np.array([[0.0], [1.0], [3.0]])
    >>> G = CoverTreeKNeighborsTransformer(n_neighbors=1).fit_transform(X)
    >>> G.nnz  # each point's nearest neighbour and the point itself (explicit zero)
    6
    >>> G.toarray()
    array([[0., 1., 0.],
           [1., 0., 0.],
           [0., 2., 0.]])
    """

    _parameter_checks = {**_NeighborsWrapper._parameter_checks, "mode": _check_mode}
    _private_fitted = (*_NeighborsWrapper._private_fitted, "_n_features_out")

    def __init__(self, *, mode: str = "distance", n_neighbors: int = 5,
                 metric: Any = "minkowski", p: float = 2, metric_params: dict | None = None,
                 backend: str = "auto", construction: str = "auto",
                 traversal: str = "sparse",
                 conflict_graph: str = "segmented", batch_order: str = "random",
                 n_jobs: int | None = None, random_state: Any = None) -> None:
        self.mode = mode
        self.n_neighbors = n_neighbors
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
        self._fit_validated(X)
        return self

    def _fit_validated(self, X: Any) -> np.ndarray:
        """Fit on X; return X as validated."""
        self._check_params()
        X, seen = self._validate_fit(X)
        self._fit_wrapped(X, seen, _n_features_out=X.shape[0])
        return X

    def _graph(self, Q: np.ndarray):
        add_one = self.mode == "distance"
        return self._kneighbors_graph(Q, self._resolve_k(None) + add_one, self.mode)

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
        return self._graph(self._validate_more(X))

    def fit_transform(self, X: Any, y: Any = None):
        """``fit(X).transform(X)``, validating X once.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        Xt : sparse matrix of shape (n_samples, n_samples)
        """
        return self._graph(self._fit_validated(X))
