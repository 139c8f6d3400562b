"""ResidualCoverTreeNeighbors: exact k-NN under the residual-correlation metric."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.gaussian_process.kernels import Kernel
from sklearn.utils import check_random_state

from ..algo.coordinates import check_coordinates
from ..engines.residual import build_index, check_choices, residual_points
from ..metrics import get_metric
from ..metrics.residual import (
    INDUCING_SELECTIONS,
    ResidualModel,
    default_kernel,
    select_inducing_points,
)
from ..runtime import Runtime
from ._base import _CoverTreeBase
from ._common import build_progress, check_strategy, query_threads
from ._params import document_params
from ._queries import KNeighborsQueryMixin, RadiusQueryMixin, VecchiaQueryMixin


def _check_kernel(kernel: Any, name: str) -> None:
    if kernel is not None and not isinstance(kernel, Kernel):
        raise TypeError(
            f"{name} must be a sklearn.gaussian_process.kernels.Kernel or None, "
            f"got {type(kernel).__name__}"
        )


def _check_jitter(jitter: Any, name: str) -> None:
    if isinstance(jitter, bool) or not isinstance(jitter, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {jitter!r}")
    if not np.isfinite(jitter) or jitter < 0:
        raise ValueError(f"{name} must be finite and >= 0, got {jitter!r}")


def _check_inducing_points(value: Any, name: str) -> None:
    """An int >= 1, or finite points of shape (m, n_features) (the width is checked in fit)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
        return
    message = f"{name} must be an int or an array of shape (m, n_features), got {value!r}"
    if isinstance(value, (bool, str, numbers.Number)) or value is None:
        raise TypeError(message)
    try:
        U = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(message) from exc
    if U.ndim != 2 or U.shape[0] < 1 or U.shape[1] < 1:
        raise ValueError(f"{name} must have shape (m, n_features) with m >= 1, got {U.shape}")
    if not np.all(np.isfinite(U)):
        raise ValueError(f"{name} must be finite (no NaN or infinity)")


def _check_coordinate_free(value: Any, name: str) -> None:
    """A tree strategy that does not need coordinates (the metric has none)."""
    check_strategy(value, name)
    check_coordinates(get_metric("residual_correlation"), name, value)


@document_params
class ResidualCoverTreeNeighbors(VecchiaQueryMixin, RadiusQueryMixin, KNeighborsQueryMixin,
                                 _CoverTreeBase):
    """Exact nearest neighbours under the residual correlation of a Gaussian process.

    For a kernel ``k``, inducing points ``U`` and ``jitter``, let
    ``K = k(U, U) + jitter * mean(diag k(U, U)) * I``, ``L = chol(K)``,
    ``V = (L^-1 k(U, X))^T`` and ``p = diag k(X, X) - rowsum(V^2)``. The
    residual correlation of two points is
    ``rho(a, b) = (k(a, b) - V_a . V_b) / sqrt(p_a p_b)`` and their distance
    ``d(a, b) = sqrt(1 - |rho(a, b)|)``, a pseudometric with values in
    [0, 1]. Small distances mean strongly correlated residuals: the
    neighbours are the conditioning sets of Vecchia and VIF approximations
    (see :meth:`vecchia_neighbors`). Everything is computed in float64;
    answers equal a float64 brute force, up to the order of ties.

    Parameters
    ----------
    %(n_neighbors)s
    %(radius)s
    kernel : sklearn.gaussian_process.kernels.Kernel, default=None
        Covariance kernel; None means ``ConstantKernel(1.0) * RBF(1.0)``. RBF
        and Matern (nu 0.5, 1.5, 2.5, inf) kernels, isotropic or with one
        length scale per feature, times ``ConstantKernel`` factors, use
        compiled code; any other scikit-learn kernel is evaluated through its
        own ``__call__`` and ``diag`` (slower, same answers). Its
        hyperparameters are used as given (nothing is optimised).
    inducing_points : int or array-like of shape (m, n_features), default=512
        An int: that many rows of the training data, chosen by
        ``inducing_selection`` (capped at ``n_samples``). An array: the
        inducing points, used as given.
    inducing_selection : {"random", "kmeans++"}, default="random"
        How rows are chosen when ``inducing_points`` is an int.
    jitter : float, default=1e-6
        Added to the diagonal of ``k(U, U)``, relative to its mean diagonal.
    algorithm : {"auto", "brute", "tree"}, default="auto"
        Query engine. "brute": blocked matrix products, every pair evaluated
        at BLAS speed. "tree": the parallel compressed cover tree built on
        this metric (fast-path kernels only). "auto" picks "brute", which was
        faster on every measured workload with 64 or more inducing points;
        ``diagnostics_`` says why.
    backend : {"auto", "numba", "numpy", "cupy"}, default="auto"
        Where the brute force runs: compiled CPU kernels ("auto", "numba"),
        whole-array numpy (the readable reference, slower) or an NVIDIA GPU
        through cupy (``pip install 'sklearn_covertreex[cupy]'``). The tree
        has compiled kernels only.
    %(construction)s
    traversal, conflict_graph, batch_order : str
        Tree build strategies (as in :class:`CoverTreeNeighbors`; defaults
        "sparse", "tree", "random"). The "tree" conflict graph built the gold
        workload's tree 2.5x faster than "segmented" under this metric. The
        grid conflict graph and the Hilbert order need coordinates and are
        rejected with an error naming the valid choices.
    %(n_jobs)s
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of inducing points and the tree's batch order.
    %(verbose)s

    Attributes
    ----------
    inducing_points_ : ndarray of shape (m, n_features)
        The inducing points used (float64).
    kernel_ : Kernel
        The kernel used (a clone of ``kernel``, or the default).
    index_ : ResidualIndex
        Fitted state: residual statistics of the training rows, the engine
        and, for ``algorithm="tree"``, the cover tree.
    diagnostics_ : dict
        Engine chosen and why, build time, tree counters.
    %(n_samples_fit_)s
    %(n_features_in_)s
    %(feature_names_in_)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_covertreex import ResidualCoverTreeNeighbors
    >>> X = np.random.default_rng(0).normal(size=(500, 2))
    >>> nn = ResidualCoverTreeNeighbors(n_neighbors=4, inducing_points=32,
    ...                                 random_state=0).fit(X)
    >>> nn.vecchia_neighbors()[:3]
    array([[-1, -1, -1, -1],
           [ 0, -1, -1, -1],
           [ 0,  1, -1, -1]])
    """

    _dtype = np.float64
    _parameter_checks = {
        **_CoverTreeBase._parameter_checks,
        "kernel": _check_kernel,
        "inducing_points": _check_inducing_points,
        "inducing_selection": lambda value, name: INDUCING_SELECTIONS.check(value),
        "jitter": _check_jitter,
        "algorithm": lambda value, name: check_choices(value, "auto"),
        "backend": lambda value, name: check_choices("auto", value),
        "conflict_graph": _check_coordinate_free,
        "batch_order": _check_coordinate_free,
    }

    def __init__(self, n_neighbors: int = 5, *, radius: float = 0.5, kernel: Any = None,
                 inducing_points: Any = 512, inducing_selection: str = "random",
                 jitter: float = 1e-6, algorithm: str = "auto", backend: str = "auto",
                 construction: str = "auto",
                 traversal: str = "sparse", conflict_graph: str = "tree",
                 batch_order: str = "random", n_jobs: int | None = None,
                 random_state: Any = None, verbose: bool = False) -> None:
        self.n_neighbors = n_neighbors
        self.radius = radius
        self.kernel = kernel
        self.inducing_points = inducing_points
        self.inducing_selection = inducing_selection
        self.jitter = jitter
        self.algorithm = algorithm
        self.backend = backend
        self.construction = construction
        self.traversal = traversal
        self.conflict_graph = conflict_graph
        self.batch_order = batch_order
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------ parameters
    def _check_params(self) -> None:
        super()._check_params()
        check_choices(self.algorithm, self.backend)

    def _runtime(self, seed: int, n_jobs: int | None) -> Runtime:
        return Runtime(
            backend="numba", construction=self.construction, traversal=self.traversal,
            conflict_graph=self.conflict_graph,
            batch_order=self.batch_order, seed=seed, n_jobs=query_threads(n_jobs),
            diagnostics=True,
        ).validate()

    def _inducing(self, X: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        value = self.inducing_points
        if isinstance(value, numbers.Integral):  # an int >= 1 (checked with the parameters)
            return select_inducing_points(X, int(value), self.inducing_selection, rng)
        U = np.array(value, dtype=np.float64)  # a copy; finite, 2-D (checked with the parameters)
        if U.shape[1] != X.shape[1]:
            raise ValueError(
                f"inducing_points must have shape (m, {X.shape[1]}) with m >= 1, "
                f"got {U.shape}"
            )
        return U

    # ---------------------------------------------------------------- fitting
    def fit(self, X: Any, y: Any = None) -> ResidualCoverTreeNeighbors:
        """Compute the residual statistics of X (and the tree, for ``algorithm="tree"``).

        Every parameter and X are checked before anything changes: if the
        call fails, the estimator keeps its previous fitted state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (dense; upcast to float64).
        y : ignored
            Not used, present for API consistency.

        Returns
        -------
        self : ResidualCoverTreeNeighbors

        Raises
        ------
        ValueError
            If a row's residual variance is not positive (the inducing points
            reproduce it exactly); the message says how to fix it.
        """
        self._check_params()
        X, seen = self._validate_fit(X)
        rng = check_random_state(self.random_state)
        kernel = default_kernel() if self.kernel is None else clone(self.kernel)
        U = self._inducing(X, rng)
        runtime = self._runtime(int(rng.randint(np.iinfo(np.int32).max)), self.n_jobs)
        model = ResidualModel.fit(kernel, U, float(self.jitter))
        with build_progress(self.verbose, X.shape[0], "fit") as progress:
            index = build_index(runtime, model, residual_points(runtime, model, X), self.algorithm,
                                progress, self.backend)
        self._set_fitted({**seen, "kernel_": kernel, "inducing_points_": model.inducing_points,
                          "index_": index, "diagnostics_": index.diagnostics,
                          "n_samples_fit_": X.shape[0]})
        return self

    def partial_fit(self, X: Any, y: Any = None) -> ResidualCoverTreeNeighbors:
        """Add rows: their statistics come from the same inducing points and factor.

        New rows get the indices ``n_samples_fit_, n_samples_fit_ + 1, ...``
        (and are inserted into the tree, if there is one). On an unfitted
        estimator this is :meth:`fit`. If the call fails, the fitted state
        is left exactly as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self : ResidualCoverTreeNeighbors
        """
        if not hasattr(self, "index_"):
            return self.fit(X)
        self._check_params()
        X = self._validate_more(X)
        index = self._query_index(self.n_jobs)
        with build_progress(self.verbose, X.shape[0], "partial_fit") as progress:
            index = index.insert(X, progress)
        self._update_fitted({"index_": index, "n_samples_fit_": index.points.n})
        return self

    # ---------------------------------------------------------------- queries
    def _query_index(self, n_jobs: int | None):
        """The fitted index with the given thread setting (no state is stored)."""
        index = self.index_
        runtime = index.runtime if index.runtime is not None else self._runtime(0, None)
        return index.with_runtime(runtime.replace(n_jobs=query_threads(n_jobs)))

    def kneighbors(self, X: Any = None, n_neighbors: int | None = None,
                   return_distance: bool = True):
        """Find the k most residual-correlated points of each query.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), default=None
            Query points; their residual statistics come from the fitted
            inducing points. None means the training points, each excluding
            itself.
        n_neighbors : int, default=None
            Number of neighbours (default: the constructor's ``n_neighbors``).
        return_distance : bool, default=True
            Whether to return the distances.

        Returns
        -------
        neigh_dist : ndarray of shape (n_queries, n_neighbors), float64
            Distances ``sqrt(1 - |rho|)``, each row ascending. Only if
            ``return_distance``.
        neigh_ind : ndarray of shape (n_queries, n_neighbors), intp
            Indices into the training data (ties: the smaller index first).
        """
        return super().kneighbors(X, n_neighbors, return_distance)

    def _kneighbors(self, Q: np.ndarray | None, k: int, return_distance: bool,
                    n_jobs: int | None):
        """k-NN of validated queries ``Q`` (None: the training points, self excluded)."""
        n_fit = self.n_samples_fit_
        index = self._query_index(n_jobs)
        if Q is None:
            if k >= n_fit:
                raise ValueError(
                    f"Expected n_neighbors < n_samples_fit, but n_neighbors = {k}, "
                    f"n_samples_fit = {n_fit}, n_samples = {n_fit}"
                )
            dist, ind = index.knn_self(k)
        else:
            if k > n_fit:
                raise ValueError(
                    f"Expected n_neighbors <= n_samples_fit, but n_neighbors = {k}, "
                    f"n_samples_fit = {n_fit}, n_samples = {Q.shape[0]}"
                )
            dist, ind = index.knn(Q, k)
        ind = ind.astype(np.intp, copy=False)
        if return_distance:
            return dist, ind
        return ind

    _vecchia_index = _query_index  # the residual index's own vecchia

    def _radius_csr(self, Q: np.ndarray | None, r: float):
        """(indptr, distances, indices) within ``r`` of validated Q; Q=None drops self."""
        index = self._query_index(self.n_jobs)
        return index.radius_self(r) if Q is None else index.radius(Q, r)
