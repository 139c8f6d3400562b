"""Query methods shared by the estimators, with ``NearestNeighbors`` semantics.

Each public method validates its X exactly once (``_validate_more``, i.e.
scikit-learn's ``validate_data(reset=False)``; ``X=None`` means the training
points, each excluding itself) and resolves its ``n_neighbors``/``radius``,
then hands the validated array to the class's answer:

* :class:`KNeighborsQueryMixin` needs ``_kneighbors(Q, k, return_distance,
  n_jobs)``;
* :class:`RadiusQueryMixin` needs ``_radius_csr(Q, radius)`` returning
  ``(indptr, distances, indices)``, rows sorted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._arrays import returns_input_namespace
from ._common import check_n_neighbors, check_radius_param, csr_output


class KNeighborsQueryMixin:
    """``kneighbors`` and ``kneighbors_graph``."""

    def _query(self, X: Any) -> np.ndarray | None:
        """The validated query array (None: the training points)."""
        return None if X is None else self._validate_more(X)

    def _resolve_k(self, n_neighbors: int | None) -> int:
        return check_n_neighbors(self.n_neighbors if n_neighbors is None else n_neighbors)

    @returns_input_namespace
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
        check_is_fitted(self)
        k = self._resolve_k(n_neighbors)
        return self._kneighbors(self._query(X), k, return_distance, self.n_jobs)

    def kneighbors_graph(self, X: Any = None, n_neighbors: int | None = None,
                         mode: str = "connectivity"):
        """Graph of k-neighbours as a CSR matrix of shape (n_queries, n_samples_fit).

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), default=None
            Query points; None means the training points, each excluding itself.
        n_neighbors : int, default=None
            Neighbours per row (default: ``n_neighbors``).
        mode : {"connectivity", "distance"}, default="connectivity"
            Ones, or the distances, as values. Entries are in neighbour order
            and explicit zeros are kept.

        Returns
        -------
        A : sparse matrix of shape (n_queries, n_samples_fit_)
        """
        check_is_fitted(self)
        _check_mode(mode)
        k = self._resolve_k(n_neighbors)
        return self._kneighbors_graph(self._query(X), k, mode)

    def _kneighbors_graph(self, Q: np.ndarray | None, k: int, mode: str):
        _check_mode(mode)
        dist, ind = self._kneighbors(Q, k, True, self.n_jobs)
        n_queries, k = ind.shape
        data = np.ones(n_queries * k) if mode == "connectivity" else dist.ravel()
        indptr = np.arange(0, n_queries * k + 1, k)
        return csr_output(data, ind.ravel(), indptr, (n_queries, self.n_samples_fit_))


class RadiusQueryMixin:
    """``radius_neighbors`` and ``radius_neighbors_graph``."""

    def _radius_query(self, X: Any, radius: float | None):
        r = check_radius_param(self.radius if radius is None else radius)
        return self._radius_csr(self._query(X), r)

    @returns_input_namespace
    def radius_neighbors(self, X: Any = None, radius: float | None = None,
                         return_distance: bool = True, sort_results: bool = False):
        """Find every neighbour within ``radius`` (inclusive) of each query.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), default=None
            Query points; None means the training points, each excluding itself.
        radius : float, default=None
            Radius (default: the constructor's ``radius``).
        return_distance : bool, default=True
            Whether to return the distances.
        sort_results : bool, default=False
            Sort each row by distance (rows are always returned sorted here;
            the flag is kept for API compatibility and requires distances).

        Returns
        -------
        neigh_dist : ndarray of shape (n_queries,), dtype=object
            Arrays of float64 distances. Only if ``return_distance``.
        neigh_ind : ndarray of shape (n_queries,), dtype=object
            Arrays of indices.
        """
        check_is_fitted(self)
        if sort_results and not return_distance:
            raise ValueError("return_distance must be True if sort_results is True.")
        indptr, dist, ind = self._radius_query(X, radius)
        n_queries = indptr.shape[0] - 1
        neigh_ind = np.empty(n_queries, dtype=object)
        neigh_dist = np.empty(n_queries, dtype=object)
        for i in range(n_queries):
            neigh_ind[i] = ind[indptr[i] : indptr[i + 1]]
            neigh_dist[i] = dist[indptr[i] : indptr[i + 1]]
        if return_distance:
            return neigh_dist, neigh_ind
        return neigh_ind

    def radius_neighbors_graph(self, X: Any = None, radius: float | None = None,
                               mode: str = "connectivity", sort_results: bool = False):
        """Graph of the neighbours within ``radius`` as a CSR matrix.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), default=None
        radius : float, default=None
        mode : {"connectivity", "distance"}, default="connectivity"
        sort_results : bool, default=False
            Rows are sorted by distance in either case.

        Returns
        -------
        A : sparse matrix of shape (n_queries, n_samples_fit_)
        """
        check_is_fitted(self)
        _check_mode(mode)
        indptr, dist, ind = self._radius_query(X, radius)
        data = np.ones(ind.shape[0]) if mode == "connectivity" else dist
        return csr_output(data, ind, indptr, (indptr.shape[0] - 1, self.n_samples_fit_))


def _check_mode(mode: Any, name: str = "mode") -> None:
    """Graph ``mode`` must be "connectivity" or "distance" (scikit-learn's message)."""
    if not isinstance(mode, str) or mode not in ("connectivity", "distance"):
        raise ValueError(
            f'Unsupported {name}, must be one of "connectivity", or "distance" but got '
            f'"{mode}" instead'
        )


class VecchiaQueryMixin:
    """``vecchia_neighbors`` for estimators whose ``_vecchia_index(n_jobs)`` has ``vecchia(k)``."""

    def vecchia_neighbors(self, n_neighbors: int | None = None, *,
                          return_distance: bool = False):
        """Vecchia conditioning sets: each training row's k nearest earlier rows.

        Row i's neighbours are the k rows ``j < i`` (training order:
        ``fit`` rows, then each ``partial_fit``'s) nearest to it under the
        estimator's metric, ascending, ties by the smaller index; rows with
        fewer than k predecessors are padded with index -1 and distance inf.
        With the Euclidean metric these are the ordered conditioning sets of
        GpGp's ``find_ordered_nn`` and GPBoost's default (order the rows
        first, e.g. by a maximin or random order, as the Vecchia method
        prescribes). Exact, through persistent prefix trees
        (:meth:`sklearn_covertreex.CoverTree.vecchia`).

        Parameters
        ----------
        n_neighbors : int, default=None
            k (default: the constructor's ``n_neighbors``).
        return_distance : bool, default=False
            Also return the distances.

        Returns
        -------
        neigh_dist : ndarray of shape (n_samples_fit, k), float64
            Only if ``return_distance``.
        neigh_ind : ndarray of shape (n_samples_fit, k), intp
        """
        check_is_fitted(self)
        k = self._resolve_k(n_neighbors)
        dist, ind = self._vecchia_index(self.n_jobs).vecchia(k)
        ind = ind.astype(np.intp, copy=False)
        if return_distance:
            return dist, ind
        return ind
