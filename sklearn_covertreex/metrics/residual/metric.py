"""The residual-correlation metric on stored rows ``[s, z_1..z_d, w_1..w_m]``.

A stored row holds everything one point needs for ``d(a, b)`` without a
kernel object: ``s = sqrt(variance / p)``, the scaled coordinates
``z = x / length_scale`` and ``w = V / sqrt(p)`` (``V``, ``p``: the point's
inducing-point coordinates and residual variance). With the parameter
vector ``(1 + d + m, kind, d)``, where ``kind`` codes the unit-variance
correlation ``g`` (see :mod:`.correlation`),
``rho(a, b) = s_a s_b g(|z_a - z_b|^2) - w_a . w_b`` and
``d(a, b) = sqrt(1 - |rho|)``: a pseudometric with values in [0, 1] and no
coordinates (the grid conflict graph and the Hilbert order reject it).
Rows are made by :meth:`.statistics.ResidualModel.pack`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..base import Metric, kernel_class
from .correlation import correlation, correlation_array

NAME = "residual_correlation"

#: Kernel-side identity of the metric (see :mod:`..base`).
ResidualRows = kernel_class("ResidualRows", __name__)

#: Entries of a stored row before the scaled coordinates (``s``).
HEADER = 1


@njit(cache=True)
def rho_to_distance(rho):
    """``sqrt(1 - |rho|)``, with ``|rho|`` clipped to 1 against rounding."""
    a = abs(rho)
    if a >= 1.0:
        return 0.0
    return math.sqrt(1.0 - a)


@njit(cache=True)
def _dot(a, b, start):
    """``a[start:] . b[start:]`` with eight independent partial sums.

    Separate accumulators let the compiler keep several multiply-adds in
    flight (a single running sum is bound by the add latency); the result
    differs from a sequential sum only by rounding.
    """
    n = a.shape[0]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    t = start
    while t + 8 <= n:
        s0 += a[t] * b[t]
        s1 += a[t + 1] * b[t + 1]
        s2 += a[t + 2] * b[t + 2]
        s3 += a[t + 3] * b[t + 3]
        s4 += a[t + 4] * b[t + 4]
        s5 += a[t + 5] * b[t + 5]
        s6 += a[t + 6] * b[t + 6]
        s7 += a[t + 7] * b[t + 7]
        t += 8
    while t < n:
        s0 += a[t] * b[t]
        t += 1
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@njit(cache=True)
def distance(params, a, b):
    """Residual-correlation distance between two stored rows (compiled)."""
    kind = int(params[1])
    dim = int(params[2])
    r2 = 0.0
    for t in range(HEADER, HEADER + dim):
        diff = a[t] - b[t]
        r2 += diff * diff
    dot = _dot(a, b, HEADER + dim)
    return rho_to_distance(a[0] * b[0] * correlation(kind, r2) - dot)


def _split(params: tuple[float, ...]) -> tuple[int, slice, slice]:
    kind, dim = int(params[1]), int(params[2])
    return kind, slice(HEADER, HEADER + dim), slice(HEADER + dim, None)


def reference(params: tuple[float, ...], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise distances between stored rows ``a`` and ``b`` (numpy, broadcasting)."""
    kind, z, w = _split(params)
    r2 = np.sum((a[..., z] - b[..., z]) ** 2, axis=-1)
    dot = np.einsum("...i,...i->...", a[..., w], b[..., w])
    rho = a[..., 0] * b[..., 0] * correlation_array(np, kind, r2) - dot
    return np.sqrt(1.0 - np.minimum(np.abs(rho), 1.0))


def make_params(n_columns: int, *, kind: int, n_features: int) -> tuple[float, ...]:
    """``(1 + d + m, kind, d)`` for stored rows of ``n_columns = 1 + d + m`` entries.

    Raises
    ------
    ValueError
        If the rows are too narrow for ``n_features`` scaled coordinates.
    """
    if n_columns < HEADER + n_features:
        raise ValueError(
            f"residual-correlation rows need at least {HEADER + n_features} columns for "
            f"{n_features} features, got {n_columns}"
        )
    return (float(n_columns), float(kind), float(n_features))


def rounding_atol2(params: tuple[float, ...], rows: np.ndarray, a: np.ndarray,
                   b: np.ndarray) -> np.ndarray:
    """How far two float64 evaluations of ``d(a, b)^2`` may differ.

    ``d^2 = 1 - |rho|`` with ``rho = s_a s_b g - w_a . w_b`` a difference
    of terms of size ``~1 / p``; summing the dot product in another order
    changes it by a few ulps of ``s_a s_b + |w_a| |w_b|``.
    """
    _, _, w = _split(params)
    norm = np.sqrt(np.einsum("ij,ij->i", rows[:, w], rows[:, w]))
    scale = rows[a, 0] * rows[b, 0] + norm[a] * norm[b]
    return 16.0 * np.finfo(np.float64).eps * scale + 1e-12


METRIC = Metric(name=NAME, kernel_class=ResidualRows, has_coordinates=False, is_true_metric=True,
                reference=reference, compiled=distance, make_params=make_params,
                rounding_atol2=rounding_atol2)
