"""Kernels of the residual-correlation metric.

Any scikit-learn ``sklearn.gaussian_process.kernels`` object works through its
own ``__call__`` and ``diag``. The common stationary kernels get a fast path
(:class:`FastKernel`): an RBF or a Matern kernel with nu in {0.5, 1.5, 2.5,
inf}, isotropic or per-feature length scales, optionally multiplied by
``ConstantKernel`` factors (the variance). The fast path gives the same
values (to rounding) and lets compiled kernels evaluate single pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Kernel, Matern, Product

from ..._parallel import for_chunks
from .correlation import KIND_MATERN12, KIND_MATERN32, KIND_MATERN52, KIND_RBF, correlation

_MATERN_KINDS = {0.5: KIND_MATERN12, 1.5: KIND_MATERN32, 2.5: KIND_MATERN52}


def default_kernel() -> Kernel:
    """``ConstantKernel(1.0) * RBF(1.0)``, the estimator's default kernel."""
    return ConstantKernel(1.0) * RBF(1.0)


@dataclass(frozen=True)
class FastKernel:
    """``variance * g(||(a - b) / length_scale||)`` with a compiled correlation ``g``.

    Attributes
    ----------
    kind : int
        One of the ``KIND_*`` codes.
    variance : float
        Product of the ``ConstantKernel`` factors (1.0 if there are none).
    length_scale : ndarray of shape (n_features,)
        Per-feature length scales (an isotropic scale is repeated).
    """

    kind: int
    variance: float
    length_scale: np.ndarray

    def scale(self, X: np.ndarray) -> np.ndarray:
        """Coordinates divided by the length scales (float64, C order)."""
        return np.ascontiguousarray(X / self.length_scale, dtype=np.float64)


def _factors(kernel: Kernel) -> list[Kernel]:
    if isinstance(kernel, Product):
        return _factors(kernel.k1) + _factors(kernel.k2)
    return [kernel]


def parse_fast_kernel(kernel: Kernel, n_features: int) -> FastKernel | None:
    """Return the fast-path description of ``kernel``, or None if it has none.

    A kernel has a fast path when it is a product of ``ConstantKernel``
    factors and exactly one ``RBF`` or ``Matern`` (nu in 0.5, 1.5, 2.5, inf).
    """
    variance = 1.0
    base = None
    for factor in _factors(kernel):
        if isinstance(factor, ConstantKernel):
            variance *= float(factor.constant_value)
        elif isinstance(factor, (RBF, Matern)) and base is None:
            base = factor
        else:
            return None
    if base is None:
        return None
    if isinstance(base, Matern) and not math.isinf(base.nu):
        kind = _MATERN_KINDS.get(float(base.nu))
        if kind is None:
            return None
    else:  # RBF, or Matern with nu = inf (which is the RBF)
        kind = KIND_RBF
    scale = np.asarray(base.length_scale, dtype=np.float64).ravel()
    if scale.size == 1:
        scale = np.full(n_features, float(scale[0]))
    if scale.size != n_features:
        raise ValueError(
            f"kernel has {scale.size} length scales but X has {n_features} features"
        )
    if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
        raise ValueError("kernel length scales must be positive and finite")
    if not (math.isfinite(variance) and variance > 0):
        raise ValueError(f"kernel variance (ConstantKernel value) must be positive, got {variance}")
    return FastKernel(kind, variance, scale)


@njit(cache=True, nogil=True)
def _cross_range(kind, variance, A, B, out, lo, hi):
    for i in range(lo, hi):
        for j in range(B.shape[0]):
            s = 0.0
            for t in range(A.shape[1]):
                diff = A[i, t] - B[j, t]
                s += diff * diff
            out[i, j] = variance * correlation(kind, s)


def _cross(kind, variance, A, B):
    out = np.empty((A.shape[0], B.shape[0]))
    for_chunks(_cross_range, A.shape[0], (kind, variance, A, B, out),
               grain=max(1, 8192 // max(1, B.shape[0])))
    return out


def kernel_matrix(kernel: Kernel, fast: FastKernel | None, A: np.ndarray,
                  B: np.ndarray) -> np.ndarray:
    """``k(A, B)`` in float64, through the fast path when there is one."""
    if fast is None:
        return np.asarray(kernel(A, B), dtype=np.float64)
    return _cross(fast.kind, fast.variance, fast.scale(A), fast.scale(B))


def kernel_diag(kernel: Kernel, fast: FastKernel | None, X: np.ndarray) -> np.ndarray:
    """``k(x, x)`` for each row of X, in float64."""
    if fast is None:
        return np.asarray(kernel.diag(X), dtype=np.float64)
    return np.full(X.shape[0], fast.variance)
