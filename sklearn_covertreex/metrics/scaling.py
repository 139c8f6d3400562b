"""Power-of-two rescaling of stored rows, so every finite float64 input works.

The compiled distances raise coordinate differences to a power (``2`` for
the Euclidean family, ``p`` for Minkowski): rows near 1e154 overflow the
squares and rows near 1e-200 underflow them. For a metric whose stored-row
distance is homogeneous of degree 1 in the rows (its
:attr:`~.base.Metric.scale_power` is set; its ``prepare`` is then
homogeneous of degree 1 too), multiplying the rows by ``2**e`` multiplies
every distance by exactly ``2**e`` (a power of two changes only the
floating-point exponent). A tree therefore stores ``prepare(X * 2**e)``,
queries are multiplied by the same ``2**e``, radii too, and distances are
divided by it on the way out: the answers are those of the unscaled data,
bit for bit, wherever that data's distances were computable at all.

``e`` is 0 when the rows' largest magnitude already lies in the metric's
*band* (where no power of a difference can overflow or lose its meaningful
bits), so ordinary data is stored as given; otherwise it brings the largest
magnitude to ``[2**(TARGET - 1), 2**TARGET)``: differences below 1, so no
power of them overflows. Rows much smaller than the largest one may
underflow after the rescaling; then the answers are those of the whole array
rescaled by that one power of two (distances among such rows may become 0,
which the tree treats as exact duplicates).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

#: Rescaled rows have their largest magnitude in [2**(TARGET - 1), 2**TARGET).
TARGET = -1

#: Largest binary exponent a sum of powered differences may reach (headroom
#: below float64's 1024 for the tree's own arithmetic: radii, ``2**(level + 1)``).
TOP = 960

#: float64's largest finite value.
FLOAT_MAX = float(np.finfo(np.float64).max)


def max_exponent(X: np.ndarray) -> int | None:
    """The binary exponent ``m`` with ``max |X| in [2**(m - 1), 2**m)`` (None if all zero).

    Raises
    ------
    ValueError
        If ``X`` holds NaN or infinity (for stored rows: the metric's
        ``prepare`` overflowed).
    """
    if X.size == 0:
        return None
    if X.size <= 64:  # a few query rows: plain Python is faster than numpy's reductions
        top = max(abs(v) for v in X.ravel().tolist())
    elif X.size <= 4096:  # small arrays: one reduction
        top = float(np.abs(X).max())
    else:
        top = max(float(X.max()), -float(X.min()))  # no |X| temporary
    if not math.isfinite(top):
        raise ValueError("the rows are beyond float64 range after the metric's transformation "
                         "(its parameters scale them by too much)")
    if top == 0.0:
        return None
    return math.frexp(top)[1]


@lru_cache(maxsize=256)
def band(power: float, width: int) -> tuple[int, int]:
    """``(lo, hi)``: the exponents ``m`` (see :func:`max_exponent`) stored as given.

    ``hi``: differences below ``2**(hi + 1)`` raised to ``power`` and summed
    over ``width`` features stay below ``2**TOP``. ``lo``: a difference
    ``2**-53`` of the largest magnitude, raised to ``power``, stays above
    ``2**-TOP`` (squares of meaningful differences do not underflow). The
    power is taken at least 2: the tree's own arithmetic squares distances
    (rounding bounds of the invariant checker), whatever the metric.
    """
    power = max(float(power), 2.0)
    hi = math.floor((TOP - math.log2(max(width, 1))) / power) - 1
    lo = math.ceil(54 - TOP / power)
    return lo, hi


def choose_exponent(m: int | None, power: float, width: int) -> int:
    """The rescaling exponent for rows whose largest magnitude has exponent ``m``."""
    if m is None:
        return 0
    lo, hi = band(power, width)
    return 0 if lo <= m <= hi else TARGET - m


def scale(X: np.ndarray, e: int) -> np.ndarray:
    """``X * 2**e`` (exact unless it underflows; ``X`` itself when ``e == 0``)."""
    return X if e == 0 else np.ldexp(X, e)


def unscale_distances(d: np.ndarray, e: int) -> np.ndarray:
    """Stored distances ``d`` back to the data's scale, ``d * 2**-e``.

    Raises
    ------
    ValueError
        If a finite distance is beyond float64 range at the data's scale.
    """
    if e == 0:
        return d
    with np.errstate(over="ignore"):
        out = np.ldexp(d, -e)
    if e < 0:
        overflow = np.isinf(out) & np.isfinite(d)
        if np.any(overflow):
            raise ValueError(distance_overflow_message())
    return out


def scale_radius(r: np.ndarray, e: int) -> np.ndarray:
    """A radius at the data's scale as a stored-row radius, ``r * 2**e``.

    Radii beyond float64 range after scaling become the largest float
    (every stored distance is below it, so nothing is lost).
    """
    if e == 0:
        return r
    with np.errstate(over="ignore"):
        return np.minimum(np.ldexp(r, e), FLOAT_MAX)


def distance_overflow_message() -> str:
    """The ``ValueError`` text for a distance that float64 cannot hold."""
    return ("a distance between these rows is beyond float64 range (above "
            f"{FLOAT_MAX:.4g}); scale the data down so that every distance is finite")


__all__ = ["FLOAT_MAX", "TARGET", "TOP", "band", "choose_exponent", "distance_overflow_message",
           "max_exponent", "scale", "scale_radius", "unscale_distances"]
