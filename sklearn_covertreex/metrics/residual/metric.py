"""The residual-correlation metric on packed rows (numpy reference)."""

from __future__ import annotations

import numpy as np

from ...backends._residual_rows import HEADER
from .kernels import correlation_array


class ResidualCorrelation:
    """``d(a, b) = sqrt(1 - |rho(a, b)|)`` between packed rows ``(n, 1, D)``.

    A pseudometric with values in [0, 1]; it has no coordinates, so the grid
    conflict graph and the Hilbert batch order reject it.
    """

    name = "residual_correlation"
    has_coordinates = False
    def rounding_atol2(self, points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """How far two float64 evaluations of ``d(a, b)^2`` may differ.

        ``d^2 = 1 - |rho|`` with ``rho = s_a s_b g - w_a . w_b`` a difference
        of terms of size ``~1 / p``; summing the dot product in another order
        changes it by a few ulps of ``s_a s_b + |w_a| |w_b|``.
        """
        rows = points[:, 0, :]
        dim = int(rows[0, 1])
        norm = np.sqrt(np.einsum("ij,ij->i", rows[:, HEADER + dim:], rows[:, HEADER + dim:]))
        scale = rows[a, 2] * rows[b, 2] + norm[a] * norm[b]
        return 16.0 * np.finfo(np.float64).eps * scale + 1e-12

    def pairwise_rows(self, points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        rows = points[:, 0, :]
        ra, rb = rows[a], rows[b]
        kind, dim = int(rows[0, 0]), int(rows[0, 1])
        z = slice(HEADER, HEADER + dim)
        r2 = np.sum((ra[:, z] - rb[:, z]) ** 2, axis=1)
        dot = np.einsum("ij,ij->i", ra[:, HEADER + dim:], rb[:, HEADER + dim:])
        rho = ra[:, 2] * rb[:, 2] * correlation_array(np, kind, r2) - dot
        return np.sqrt(1.0 - np.minimum(np.abs(rho), 1.0))
