"""Cosine and correlation distances through unit rows and the chord distance.

``cosine(a, b) = 1 - a.b / (|a| |b|)`` is not a metric, but it is a monotone
function of one: for unit rows ``u, v``, ``|u - v|^2 = 2 (1 - u.v)``. The
tree stores the rows divided by their norms (``correlation``: first centred
on their mean, as scipy and scikit-learn define it) and searches the chord
``c = |u - v|``, a true metric on the sphere; the neighbours are the
cosine-distance neighbours and distances are reported as ``c^2 / 2``
(``1 - cos``, as scikit-learn returns them), radii ``r`` searched as
``sqrt(2 r)``. A zero row (a constant one, for correlation) has no
direction: scikit-learn gives it distance 1 to every row, itself included
(not a metric), so such rows are refused with a ``ValueError``.
"""

from __future__ import annotations

import numpy as np

from ._chord import euclidean_rows_metric, row_exponents, unit_rows
from .base import width_params

NAME = "cosine"
CORRELATION = "correlation"


def prepare_cosine(X: np.ndarray, params: tuple[float, ...]) -> np.ndarray:
    """Rows divided by their norms."""
    return unit_rows(X, NAME)


def prepare_correlation(X: np.ndarray, params: tuple[float, ...]) -> np.ndarray:
    """Rows centred on their mean, then divided by their norms (each row first scaled by a
    power of two, exactly: correlation is invariant to it)."""
    X = np.ldexp(X, -row_exponents(X)[:, None])  # exact; the mean cannot overflow
    return unit_rows(X - X.mean(axis=1, keepdims=True), CORRELATION)


def to_user(d: np.ndarray, params: tuple[float, ...]) -> np.ndarray:
    """Chord -> ``1 - cos`` (``c^2 / 2``)."""
    d = np.asarray(d)
    return d * d / 2.0


def radius_to_stored(r: np.ndarray, params: tuple[float, ...]) -> np.ndarray:
    """``1 - cos`` -> chord."""
    return np.sqrt(2.0 * np.maximum(np.asarray(r, dtype=np.float64), 0.0))


METRIC = euclidean_rows_metric(NAME, make_params=width_params, prepare=prepare_cosine,
                               to_user=to_user, radius_to_stored=radius_to_stored)
CORRELATION_METRIC = euclidean_rows_metric(CORRELATION, make_params=width_params,
                                           prepare=prepare_correlation, to_user=to_user,
                                           radius_to_stored=radius_to_stored)
