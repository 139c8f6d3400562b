"""The unit-variance correlation ``g(r^2)`` of the fast-path kernels, in every form.

``g`` is the stationary correlation of an RBF (``kind`` 0) or a Matern
kernel with nu = 1/2, 3/2, 5/2 (``kind`` 1, 2, 3) at squared scaled
distance ``r2``. The compiled scalar version (numba), the whole-array
version (numpy or cupy) and the CUDA C version (for cupy's fused kernels)
are written here side by side; a test pins them equal.
"""

from __future__ import annotations

import math
from typing import Any

from numba import njit

#: Correlation-function codes.
KIND_RBF = 0
KIND_MATERN12 = 1
KIND_MATERN32 = 2
KIND_MATERN52 = 3

SQRT3 = math.sqrt(3.0)
SQRT5 = math.sqrt(5.0)


@njit(cache=True)
def correlation(kind, r2):
    """``g`` at squared scaled distance ``r2`` (compiled, scalar)."""
    if kind == 0:
        return math.exp(-0.5 * r2)
    r = math.sqrt(r2)
    if kind == 1:
        return math.exp(-r)
    if kind == 2:
        t = math.sqrt(3.0) * r
        return (1.0 + t) * math.exp(-t)
    t = math.sqrt(5.0) * r
    return (1.0 + t + t * t / 3.0) * math.exp(-t)


def correlation_array(xp: Any, kind: int, r2: Any) -> Any:
    """``g`` of an array of squared scaled distances, with the array module ``xp``."""
    if kind == KIND_RBF:
        return xp.exp(-0.5 * r2)
    r = xp.sqrt(r2)
    if kind == KIND_MATERN12:
        return xp.exp(-r)
    if kind == KIND_MATERN32:
        t = SQRT3 * r
        return (1.0 + t) * xp.exp(-t)
    t = SQRT5 * r
    return (1.0 + t + t * t / 3.0) * xp.exp(-t)


#: CUDA C statements setting ``double g`` from ``int kind`` and ``double r2``.
CUDA_CORRELATION = r"""
double g;
if (kind == 0) {
    g = exp(-0.5 * r2);
} else {
    double rr = sqrt(r2);
    if (kind == 1) {
        g = exp(-rr);
    } else if (kind == 2) {
        double u = sqrt(3.0) * rr;
        g = (1.0 + u) * exp(-u);
    } else {
        double u = sqrt(5.0) * rr;
        g = (1.0 + u + u * u / 3.0) * exp(-u);
    }
}
"""
