"""Base for estimators that own a private fitted CoverTreeNeighbors."""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator

from .neighbors import CoverTreeNeighbors


class _NeighborsWrapper(BaseEstimator):
    """Shared parameters and the private neighbour index of the wrappers."""

    def _make_index(self) -> CoverTreeNeighbors:
        return CoverTreeNeighbors(
            n_neighbors=self.n_neighbors, backend=self.backend, traversal=self.traversal,
            conflict_graph=self.conflict_graph, batch_order=self.batch_order,
            n_jobs=self.n_jobs, random_state=self.random_state,
        )

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags

    def _sync_fitted(self, index: CoverTreeNeighbors) -> None:
        """Keep the fitted index (fed with validated arrays: feature names stay here)."""
        self._index = index
        self.n_samples_fit_ = index.n_samples_fit_

    @property
    def tree_(self) -> Any:
        """The fitted cover tree."""
        return self._index.tree_
