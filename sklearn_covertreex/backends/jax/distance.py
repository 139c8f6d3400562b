"""The metric seam of the jax kernels: Euclidean rows, summed feature by feature.

Like the numba and numpy kernels, squares are accumulated in feature order
(no GEMM expansion) and no multiply-add is fused (see
:func:`row_distances`), so distances agree with theirs bit for bit on the
tested platform (XLA on CPU) and ties are decided alike. Other metrics have compiled
(numba) tree kernels only; a kernel handed one raises ``ValueError``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...metrics.base import KernelMetric
from ..contract import check_euclidean_rows


def check_width(metric: KernelMetric, width: int) -> None:
    """Raise ``ValueError`` unless the metric is Euclidean and rows are ``params[0]`` wide."""
    check_euclidean_rows(metric, width, "jax")


def common_dtype(*arrays: Any) -> np.dtype:
    """The dtype the differences are taken in (as numpy's reference promotes them)."""
    return np.result_type(*(np.asarray(a).dtype if not hasattr(a, "dtype") else a.dtype
                            for a in arrays))


def row_distances(jnp: Any, a: Any, b: Any) -> Any:
    """Distances between rows of ``a`` and ``b`` broadcast against each other (traced).

    Differences in the inputs' dtype, squares accumulated in float64 in
    feature order, then ``sqrt``. Each square passes through
    ``maximum(square, 0)`` (a no-op on finite data): without it XLA's CPU
    code generator fuses the multiply into the next add as an FMA, whose
    single rounding differs from numba's two in the last bit and breaks
    ties differently.
    """
    shape = jnp.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    s = jnp.zeros(shape, jnp.float64)
    for t in range(a.shape[-1]):
        diff = a[..., t] - b[..., t]
        s = s + jnp.maximum(diff * diff, 0).astype(jnp.float64)
    return jnp.sqrt(s)
