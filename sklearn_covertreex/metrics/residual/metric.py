"""The residual-correlation metric on packed rows (numpy reference)."""

from __future__ import annotations

import numpy as np

from ...backends._residual_rows import HEADER
from .kernels import KIND_MATERN12, KIND_MATERN32, KIND_RBF


def _correlation(kind: int, r2: np.ndarray) -> np.ndarray:
    if kind == KIND_RBF:
        return np.exp(-0.5 * r2)
    r = np.sqrt(r2)
    if kind == KIND_MATERN12:
        return np.exp(-r)
    if kind == KIND_MATERN32:
        t = np.sqrt(3.0) * r
        return (1.0 + t) * np.exp(-t)
    t = np.sqrt(5.0) * r
    return (1.0 + t + t * t / 3.0) * np.exp(-t)


class ResidualCorrelation:
    """``d(a, b) = sqrt(1 - |rho(a, b)|)`` between packed rows ``(n, 1, D)``.

    A pseudometric with values in [0, 1]; it has no coordinates, so the grid
    conflict graph and the Hilbert batch order reject it.
    """

    name = "residual_correlation"
    has_coordinates = False
    #: Squared distances are ``1 - |rho|`` with ``rho`` a difference of two
    #: terms of size ``~1 / p``: two float64 evaluations of the same pair
    #: (dot products summed in another order) may differ by this much.
    rounding_atol2 = 1e-9

    def pairwise_rows(self, points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        rows = points[:, 0, :]
        ra, rb = rows[a], rows[b]
        kind, dim = int(rows[0, 0]), int(rows[0, 1])
        z = slice(HEADER, HEADER + dim)
        r2 = np.sum((ra[:, z] - rb[:, z]) ** 2, axis=1)
        dot = np.einsum("ij,ij->i", ra[:, HEADER + dim:], rb[:, HEADER + dim:])
        rho = ra[:, 2] * rb[:, 2] * _correlation(kind, r2) - dot
        return np.sqrt(1.0 - np.minimum(np.abs(rho), 1.0))
