"""Base of the classifier, regressor and transformer: a private fitted CoverTreeNeighbors."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import _CoverTreeBase
from ._queries import KNeighborsQueryMixin
from .neighbors import CoverTreeNeighbors


class _NeighborsWrapper(KNeighborsQueryMixin, _CoverTreeBase):
    """Shared parameters, fitting and queries of the wrappers (private).

    The fitted state is ``_index``, a :class:`CoverTreeNeighbors` fitted on
    arrays this wrapper validated (so feature names and widths are checked
    here, once per call), plus the subclass's targets. Queries
    (``kneighbors``, ``kneighbors_graph``, predictions, graphs) validate X
    here and ask the index with this wrapper's ``n_neighbors`` and ``n_jobs``.
    """

    _private_fitted = ("_index", "_y")

    def _make_index(self) -> CoverTreeNeighbors:
        return CoverTreeNeighbors(
            n_neighbors=self.n_neighbors, metric=self.metric, p=self.p,
            metric_params=self.metric_params, backend=self.backend,
            construction=self.construction, traversal=self.traversal,
            conflict_graph=self.conflict_graph, batch_order=self.batch_order,
            n_jobs=self.n_jobs, random_state=self.random_state,
        )

    def _fit_wrapped(self, X: np.ndarray, seen: dict[str, Any], **targets: Any) -> None:
        """Build a new index on validated X and swap in the whole fitted state."""
        index = self._make_index()
        index._set_fitted({"n_features_in_": X.shape[1], **index._build(X)})
        self._set_fitted({**seen, **targets, "_index": index,
                          "n_samples_fit_": index.n_samples_fit_})

    def _grow_wrapped(self, X: np.ndarray, **targets: Any) -> None:
        """Insert validated X into a copy of the index, then swap in the changes."""
        index = self._index._shallow_copy()
        index._update_fitted(index._grow(X))
        self._update_fitted({**targets, "_index": index,
                             "n_samples_fit_": index.n_samples_fit_})

    def _kneighbors(self, Q: np.ndarray | None, k: int, return_distance: bool,
                    n_jobs: int | None):
        return self._index._kneighbors(Q, k, return_distance, n_jobs)

    @property
    def tree_(self) -> Any:
        """The fitted cover tree."""
        return self._index.tree_

    @property
    def effective_metric_(self) -> Any:
        """The metric used, as scikit-learn sets it (see :class:`CoverTreeNeighbors`)."""
        return self._index.effective_metric_

    @property
    def effective_metric_params_(self) -> dict[str, Any]:
        """The metric's parameters, as scikit-learn sets them."""
        return self._index.effective_metric_params_
