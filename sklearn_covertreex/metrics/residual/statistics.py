"""Residual statistics: inducing-point coordinates ``V`` and residual variances ``p``.

Given a kernel ``k``, inducing points ``U`` (m x d) and a relative ``jitter``::

    K = k(U, U) + jitter * mean(diag k(U, U)) * I,   L = chol(K)
    V = (L^-1 k(U, X))^T,                           p = diag k(X, X) - rowsum(V^2)
    rho(a, b) = (k(a, b) - V_a . V_b) / sqrt(p_a p_b),  d(a, b) = sqrt(1 - |rho(a, b)|)

Everything is float64, whatever the input precision.

Kernels with a white-noise term (``RBF() + WhiteKernel()``) follow
scikit-learn's convention: ``k(a, b)`` between two given sets omits the
noise, ``k.diag(x)`` includes it. So ``K = k(U, U)`` is the covariance of
noise-free inducing values,
``k(U, x)`` and ``k(a, b)`` for distinct rows omit the noise, and ``p``
(from ``k.diag``) is the variance of a noisy observation: ``rho`` is the
residual correlation of noisy observations given the noise-free inducing
values, as in a VIF approximation of data with a nugget. The jitter is
relative to the mean of ``k.diag(U)`` (the observation variance, noise
included).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
from sklearn.gaussian_process.kernels import Kernel

from .kernels import FastKernel, kernel_diag, kernel_matrix, parse_fast_kernel
from .metric import HEADER

#: A residual variance at or below this fraction of k(x, x) is treated as zero:
#: the correlation would be dominated by rounding error.
MIN_RELATIVE_VARIANCE = 1e-12

#: Rows of X processed together when computing statistics (bounds memory).
STATS_CHUNK = 8192


@dataclass(frozen=True)
class ResidualPoints:
    """Per-point data the residual distance needs, for a set of rows.

    Attributes
    ----------
    X : ndarray (n, d)
        The points (float64).
    coords : ndarray (n, d)
        ``X / length_scale`` on the fast path, else ``X``.
    W : ndarray (n, m)
        ``V / sqrt(p)``.
    s : ndarray (n,)
        ``sqrt(variance / p)`` on the fast path, else ``1 / sqrt(p)``.
    p : ndarray (n,)
        Residual variances.
    """

    X: np.ndarray
    coords: np.ndarray
    W: np.ndarray
    s: np.ndarray
    p: np.ndarray

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    def rows(self, block: slice) -> ResidualPoints:
        """The rows of a slice (views, no copy)."""
        return ResidualPoints(self.X[block], self.coords[block], self.W[block],
                              self.s[block], self.p[block])

    def concat(self, other: ResidualPoints) -> ResidualPoints:
        """These rows followed by ``other``'s."""
        return ResidualPoints(*(np.concatenate([getattr(self, f), getattr(other, f)])
                                for f in ("X", "coords", "W", "s", "p")))


@dataclass(frozen=True)
class ResidualModel:
    """Kernel, inducing points and Cholesky factor defining the metric.

    Build it with :meth:`fit`; :meth:`points` then gives the residual data of
    any rows (training or query) from the same ``U`` and ``L``.
    """

    kernel: Kernel
    fast: FastKernel | None
    inducing_points: np.ndarray
    chol: np.ndarray
    jitter_value: float

    @classmethod
    def fit(cls, kernel: Kernel, inducing_points: np.ndarray, jitter: float) -> ResidualModel:
        """Factor ``k(U, U) + jitter * mean(diag) * I``.

        Raises
        ------
        ValueError
            If the jittered inducing kernel matrix is not positive definite.
        """
        U = np.ascontiguousarray(inducing_points, dtype=np.float64)
        fast = parse_fast_kernel(kernel, U.shape[1])
        # k(U, U) with both arguments given: scikit-learn's convention for the
        # covariance of distinct function values, so a WhiteKernel term adds
        # nothing here (the inducing values are noise-free); the jitter scale
        # is the mean observation variance k.diag(U), noise included
        K = kernel_matrix(kernel, fast, U, U)
        jitter_value = float(jitter) * float(np.mean(kernel_diag(kernel, fast, U)))
        K[np.diag_indices_from(K)] += jitter_value
        try:
            L = np.linalg.cholesky(K)
        except np.linalg.LinAlgError:
            raise ValueError(
                "the kernel matrix of the inducing points is not positive definite "
                f"(jitter={jitter}); increase `jitter` or remove duplicated inducing points"
            ) from None
        return cls(kernel, fast, U, L, jitter_value)

    @property
    def n_inducing(self) -> int:
        return int(self.inducing_points.shape[0])

    def points(self, X: np.ndarray) -> ResidualPoints:
        """Residual data of the rows of X (float64).

        Raises
        ------
        ValueError
            If a row's residual variance ``p`` is not positive (for example a
            row equal to an inducing point with ``jitter=0``).
        """
        X = np.ascontiguousarray(X, dtype=np.float64)
        if not np.all(np.isfinite(X)):
            # checked here, not only by the estimators' validation, which
            # sklearn.config_context(assume_finite=True) switches off
            raise ValueError("X contains NaN or infinity: residual statistics need finite rows")
        n, m = X.shape[0], self.n_inducing
        V = np.empty((n, m))
        for start in range(0, n, STATS_CHUNK):
            rows = slice(start, min(n, start + STATS_CHUNK))
            # k(X, U)^T is Fortran-ordered: LAPACK solves it without a copy
            Kux = kernel_matrix(self.kernel, self.fast, X[rows], self.inducing_points).T
            V[rows] = sla.solve_triangular(self.chol, Kux, lower=True, check_finite=False,
                                           overwrite_b=True).T
        kdiag = kernel_diag(self.kernel, self.fast, X)
        p = kdiag - np.einsum("ij,ij->i", V, V)
        bad = np.flatnonzero(~(p > MIN_RELATIVE_VARIANCE * np.abs(kdiag)))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"residual variance p is not positive for {bad.size} row(s) (first: row {i}, "
                f"p={p[i]:.3g}, k(x, x)={kdiag[i]:.3g}): the inducing points reproduce these "
                "rows exactly, so their residual correlation is undefined. Increase `jitter` "
                "(e.g. 1e-6) or use fewer / different inducing points"
            )
        root_p = np.sqrt(p)
        V /= root_p[:, None]  # V becomes W in place (one n x m array at a time)
        W = V
        if self.fast is not None:
            coords = self.fast.scale(X)
            s = np.sqrt(self.fast.variance) / root_p
        else:
            coords = X
            s = 1.0 / root_p
        return ResidualPoints(X, coords, W, s, p)

    def cross_kernel(self, A: ResidualPoints, B: ResidualPoints) -> np.ndarray:
        """``k(a, b) * s_a * s_b`` scaled so that ``rho = result - W_a . W_b``."""
        if self.fast is not None:
            K = kernel_matrix(self.kernel, self.fast, A.X, B.X) / self.fast.variance
        else:
            K = kernel_matrix(self.kernel, None, A.X, B.X)
        return K * A.s[:, None] * B.s[None, :]

    def distances(self, A: ResidualPoints, B: ResidualPoints) -> np.ndarray:
        """Dense ``d(A, B)`` (numpy reference; use for small blocks)."""
        rho = self.cross_kernel(A, B) - A.W @ B.W.T
        return np.sqrt(1.0 - np.minimum(np.abs(rho), 1.0))

    def require_fast_path(self) -> None:
        """Raise ``ValueError`` unless the kernel has a compiled fast path."""
        if self.fast is None:
            raise ValueError(
                "algorithm='tree' needs a kernel with a compiled fast path (RBF or Matern with "
                "nu in 0.5, 1.5, 2.5, inf, times ConstantKernel); use algorithm='brute' or "
                f"'auto' for {self.kernel!r}"
            )

    def metric_params(self) -> dict[str, int]:
        """``metric_params`` of a residual-correlation tree on :meth:`pack`'s rows.

        Raises
        ------
        ValueError
            If the kernel has no fast path.
        """
        self.require_fast_path()
        return {"kind": int(self.fast.kind), "n_features": int(self.inducing_points.shape[1])}

    def pack(self, P: ResidualPoints) -> np.ndarray:
        """Stored rows ``[s, z, w]`` of shape ``(n, 1 + d + m)`` for the tree kernels.

        Raises
        ------
        ValueError
            If the kernel has no fast path (the tree kernels cannot call a
            scikit-learn kernel object).
        """
        self.require_fast_path()
        n, d = P.coords.shape
        rows = np.empty((n, HEADER + d + P.W.shape[1]))
        rows[:, 0] = P.s
        rows[:, HEADER:HEADER + d] = P.coords
        rows[:, HEADER + d:] = P.W
        return rows
