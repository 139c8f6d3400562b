"""Compiled distance between packed rows of the residual-correlation metric.

A packed row holds everything one point needs for ``d(a, b)`` without a
kernel object: ``[kind, d, s, z_1..z_d, w_1..w_m]`` where ``kind`` codes the
unit-variance correlation ``g`` (0 RBF, 1 Matern 1/2, 2 Matern 3/2,
3 Matern 5/2), ``z = x / length_scale``, ``s = sqrt(variance / p)`` and
``w = V / sqrt(p)`` (``V``, ``p``: the point's inducing-point coordinates and
residual variance). Then ``rho(a, b) = s_a s_b g(|z_a - z_b|^2) - w_a . w_b``
and ``d(a, b) = sqrt(1 - |rho|)``.

The cover-tree kernels store such rows as a 3-D array ``(n, 1, 3 + d + m)``;
the extra axis is what tells the compiled kernels (which dispatch on the
number of dimensions) to use this distance instead of the Euclidean one.
"""

from __future__ import annotations

import math

from numba import njit

#: Number of header entries before the scaled coordinates.
HEADER = 3


@njit(cache=True)
def correlation(kind, r2):
    """Unit-variance correlation ``g`` at squared scaled distance ``r2``."""
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
def packed_distance(a, b):
    """Residual-correlation distance between two packed rows (1-D arrays)."""
    dim = int(a[1])
    r2 = 0.0
    for t in range(HEADER, HEADER + dim):
        diff = a[t] - b[t]
        r2 += diff * diff
    dot = _dot(a, b, HEADER + dim)
    return rho_to_distance(a[2] * b[2] * correlation(int(a[0]), r2) - dot)
