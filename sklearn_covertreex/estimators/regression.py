"""CoverTreeKNeighborsRegressor: k-NN average on exact cover-tree neighbours."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .._arrays import returns_input_namespace
from ._params import document_params
from ._weights import neighbor_weights
from ._wrapped import _NeighborsWrapper


@document_params
class CoverTreeKNeighborsRegressor(RegressorMixin, _NeighborsWrapper):
    """k-nearest-neighbours regressor on exact cover-tree neighbours (any metric).

    Same predictions and scores as :class:`sklearn.neighbors.KNeighborsRegressor`
    with the same metric (up to neighbours tied at equal distance),
    multi-output targets included: 2-D ``y`` (a column vector too) gives
    2-D predictions. Supports :meth:`partial_fit`, :meth:`kneighbors` and
    :meth:`kneighbors_graph`.

    Parameters
    ----------
    %(n_neighbors)s
    %(weights)s
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
    >>> from sklearn_covertreex import CoverTreeKNeighborsRegressor
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> reg = CoverTreeKNeighborsRegressor(n_neighbors=2).fit(X, [0.0, 1.0, 2.0, 3.0])
    >>> reg.predict([[1.2]])
    array([1.5])
    """

    def __init__(self, n_neighbors: int = 5, *, weights: Any = "uniform",
                 metric: Any = "minkowski", p: float = 2, metric_params: dict | None = None,
                 backend: str = "auto", construction: str = "auto",
                 traversal: str = "sparse",
                 conflict_graph: str = "segmented", batch_order: str = "random",
                 n_jobs: int | None = None, random_state: Any = None) -> None:
        self.n_neighbors = n_neighbors
        self.weights = weights
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

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X: Any, y: Any) -> CoverTreeKNeighborsRegressor:
        """Fit on training data X with targets y.

        Every parameter, X and y are checked before anything changes: if the
        call fails, the estimator keeps its previous fitted state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        self : CoverTreeKNeighborsRegressor
        """
        self._check_params()
        (X, y), seen = self._validate_fit(X, y, multi_output=True, y_numeric=True)
        self._fit_wrapped(X, seen, _y=np.asarray(y, dtype=np.float64))
        return self

    def partial_fit(self, X: Any, y: Any) -> CoverTreeKNeighborsRegressor:
        """Add samples (batch insertion into the fitted tree).

        On an unfitted estimator this is :meth:`fit`. If the call fails, the
        fitted state is left exactly as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The same shape per sample as on the first call (1-D, or the same
            number of columns).

        Returns
        -------
        self : CoverTreeKNeighborsRegressor
        """
        if not hasattr(self, "_index"):
            return self.fit(X, y)
        self._check_params()
        X, y = self._validate_more(X, y, multi_output=True, y_numeric=True)
        if y.shape[1:] != self._y.shape[1:]:
            raise ValueError(
                f"y has {_outputs(y)}, but {type(self).__name__} was fitted with "
                f"{_outputs(self._y)}; every call must give the same number of outputs"
            )
        self._grow_wrapped(X, _y=np.concatenate([self._y, np.asarray(y, dtype=np.float64)]))
        return self

    @returns_input_namespace
    def predict(self, X: Any) -> np.ndarray:
        """(Weighted) mean target of the k nearest neighbours.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features) or None
            Query points; None means the training points, each excluding
            itself.

        Returns
        -------
        y : ndarray of shape (n_queries,) or (n_queries, n_outputs)
        """
        check_is_fitted(self)
        dist, ind = self._kneighbors(self._query(X), self._resolve_k(None), True, self.n_jobs)
        w = neighbor_weights(dist, self.weights)
        if self._y.ndim == 2:
            w = w[:, :, None]
        return np.sum(self._y[ind] * w, axis=1) / np.sum(w, axis=1)


def _outputs(y: np.ndarray) -> str:
    return "1-D targets" if y.ndim == 1 else f"{y.shape[1]} target column(s)"
