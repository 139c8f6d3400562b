"""CoverTreeKNeighborsClassifier: k-NN vote on exact cover-tree neighbours."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .._arrays import returns_input_namespace
from ._params import document_params
from ._weights import neighbor_weights
from ._wrapped import _NeighborsWrapper


@document_params
class CoverTreeKNeighborsClassifier(ClassifierMixin, _NeighborsWrapper):
    """k-nearest-neighbours classifier on exact cover-tree neighbours (any metric).

    Same predictions, probabilities and scores as
    :class:`sklearn.neighbors.KNeighborsClassifier` with the same metric
    (up to neighbours tied at equal distance, where the smaller training
    index wins here), multi-output targets included. Supports
    :meth:`partial_fit` (batch insertion), :meth:`kneighbors` and
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
    classes_ : ndarray of shape (n_classes,) or list of such arrays
        Class labels, sorted; one array per output for 2-D ``y``.
    outputs_2d_ : bool
        Whether ``y`` had several columns (``False`` for 1-D ``y`` and for a
        column vector, which is raveled with a ``DataConversionWarning``).
    %(n_samples_fit_)s
    %(n_features_in_)s
    %(feature_names_in_)s
    %(tree_)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_covertreex import CoverTreeKNeighborsClassifier
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> clf = CoverTreeKNeighborsClassifier(n_neighbors=3).fit(X, [0, 0, 1, 1])
    >>> clf.predict([[1.1]])
    array([0])
    >>> clf.predict_proba([[0.9]])
    array([[0.66666667, 0.33333333]])
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
        tags.classifier_tags.multi_label = True
        return tags

    @property
    def outputs_2d_(self) -> bool:
        """Whether the targets have several outputs (``classes_`` is then a list)."""
        return self._y.ndim == 2

    def fit(self, X: Any, y: Any) -> CoverTreeKNeighborsClassifier:
        """Fit on training data X with labels y.

        Every parameter, X and y are checked before anything changes: if the
        call fails, the estimator keeps its previous fitted state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        self : CoverTreeKNeighborsClassifier
        """
        self._check_params()
        (X, y), seen = self._validate_fit(X, y, multi_output=True)
        y = _labels(y)
        if y.ndim == 1:
            classes, codes = np.unique(y, return_inverse=True)
        else:
            columns = [np.unique(column, return_inverse=True) for column in y.T]
            classes = [c for c, _ in columns]
            codes = np.stack([k for _, k in columns], axis=1)
        self._fit_wrapped(X, seen, classes_=classes, _y=codes.astype(np.intp, copy=False))
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> CoverTreeKNeighborsClassifier:
        """Add labelled samples (batch insertion into the fitted tree).

        If the call fails, the fitted state is left exactly as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The number of outputs is fixed by the first call.
        classes : array-like of shape (n_classes,) or list of such, default=None
            Every label that will ever be seen (for 2-D ``y``, one array per
            output); required on the first call if later calls may bring new
            labels. Ignored afterwards unless it disagrees with ``classes_``.

        Returns
        -------
        self : CoverTreeKNeighborsClassifier
        """
        self._check_params()
        first = not hasattr(self, "_index")
        if first:
            (X, y), seen = self._validate_fit(X, y, multi_output=True)
        else:
            X, y = self._validate_more(X, y, multi_output=True)
        y = _labels(y)
        outputs = 1 if y.ndim == 1 else y.shape[1]
        if first:
            all_classes = _initial_classes(y, classes)
        else:
            fitted = 1 if not self.outputs_2d_ else len(self.classes_)
            if y.ndim != self._y.ndim or outputs != fitted:
                raise ValueError(
                    f"y has {outputs} output(s), but {type(self).__name__} was fitted with "
                    f"{fitted}"
                )
            all_classes = self.classes_
            if classes is not None and not _same_classes(classes, all_classes, y.ndim):
                raise ValueError(
                    f"classes={classes!r} is not the same as on the first call to partial_fit "
                    f"({all_classes!r})"
                )
        per_output = [all_classes] if y.ndim == 1 else all_classes
        columns = y[:, None] if y.ndim == 1 else y
        codes = np.empty(columns.shape, dtype=np.intp)
        for j, known in enumerate(per_output):
            unknown = np.setdiff1d(columns[:, j], known)
            if unknown.size:
                raise ValueError(
                    f"y contains labels {unknown.tolist()!r} not in classes "
                    f"{known.tolist()!r}; pass every label with classes= on the first call "
                    "to partial_fit"
                )
            codes[:, j] = np.searchsorted(known, columns[:, j])
        codes = codes.ravel() if y.ndim == 1 else codes
        if first:
            self._fit_wrapped(X, seen, classes_=all_classes, _y=codes)
        else:
            self._grow_wrapped(X, _y=np.concatenate([self._y, codes]))
        return self

    @returns_input_namespace
    def predict_proba(self, X: Any) -> np.ndarray | list[np.ndarray]:
        """Class probabilities: (weighted) share of each class among the k neighbours.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features) or None
            Query points; None means the training points, each excluding
            itself.

        Returns
        -------
        proba : ndarray of shape (n_queries, n_classes), or a list of such arrays
            One per output for 2-D ``y``. Rows sum to 1; columns are in the
            order of ``classes_``.
        """
        check_is_fitted(self)
        dist, ind = self._kneighbors(self._query(X), self._resolve_k(None), True, self.n_jobs)
        w = neighbor_weights(dist, self.weights)
        codes = self._y[:, None] if self._y.ndim == 1 else self._y
        classes = [self.classes_] if self._y.ndim == 1 else self.classes_
        rows = np.repeat(np.arange(ind.shape[0]), ind.shape[1])
        probas = []
        for j, known in enumerate(classes):
            proba = np.zeros((ind.shape[0], known.shape[0]))
            np.add.at(proba, (rows, codes[:, j][ind].ravel()), w.ravel())
            total = proba.sum(axis=1, keepdims=True)
            total[total == 0.0] = 1.0
            probas.append(proba / total)
        return probas[0] if self._y.ndim == 1 else probas

    @returns_input_namespace
    def predict(self, X: Any) -> np.ndarray:
        """Predicted class of each query (ties go to the first class in ``classes_``).

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
        proba = self.predict_proba(X)
        if self._y.ndim == 1:
            return self.classes_[np.argmax(proba, axis=1)]
        return np.stack([known[np.argmax(p, axis=1)] for known, p in zip(self.classes_, proba,
                                                                          strict=True)], axis=1)


def _labels(y: np.ndarray) -> np.ndarray:
    """Check classification targets; a column vector becomes 1-D, as scikit-learn does."""
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change the "
            "shape of y to (n_samples,), for example using ravel().",
            DataConversionWarning, stacklevel=3,
        )
        y = y.ravel()
    check_classification_targets(y)
    return y


def _initial_classes(y: np.ndarray, classes: Any) -> np.ndarray | list[np.ndarray]:
    """``classes_`` of a first ``partial_fit``: from ``classes`` if given, else from y."""
    if y.ndim == 1:
        return np.unique(y) if classes is None else np.unique(classes)
    if classes is None:
        return [np.unique(column) for column in y.T]
    if len(classes) != y.shape[1] or any(np.ndim(c) != 1 for c in classes):
        raise ValueError(
            f"classes must hold one array of labels per output ({y.shape[1]}), "
            f"got {classes!r}"
        )
    return [np.unique(c) for c in classes]


def _same_classes(classes: Any, known: Any, ndim: int) -> bool:
    if ndim == 1:
        return np.array_equal(np.unique(classes), known)
    return len(classes) == len(known) and all(
        np.array_equal(np.unique(c), k) for c, k in zip(classes, known, strict=True)
    )
