"""The haversine (great-circle) distance on the unit sphere, rows ``[latitude, longitude]``.

As scikit-learn: two columns, latitude then longitude, in radians; the
distance ``2 arcsin(sqrt(sin^2(dlat / 2) + cos lat_a cos lat_b sin^2(dlon / 2)))``
is the angle between the two points, in radians (multiply by the Earth's
radius, about 6371 km, for lengths). The tree stores the points as 3-D unit
vectors and searches the chord length ``c = 2 sin(angle / 2)``, an
increasing function of the angle: neighbours are the same, distances are
reported as ``2 arcsin(c / 2)``, and radii ``r`` searched as ``2 sin(r / 2)``.
The great-circle distance is a true metric; on the stored rows the grid
conflict graph and the Hilbert order apply (they are Euclidean).
"""

from __future__ import annotations

import numpy as np

from ._chord import euclidean_rows_metric

NAME = "haversine"


def make_params(n_columns: int) -> tuple[float, ...]:
    """``(3,)``: stored rows are 3-D unit vectors; ``ValueError`` unless 2 columns."""
    if n_columns != 2:
        raise ValueError(f"the haversine metric needs 2 columns (latitude, longitude in "
                         f"radians), got {n_columns}")
    return (3.0,)


def prepare(X: np.ndarray, params: tuple[float, ...]) -> np.ndarray:
    """``[lat, lon]`` (radians) -> unit vectors ``[cos lat cos lon, cos lat sin lon, sin lat]``."""
    lat, lon = X[:, 0], X[:, 1]
    c = np.cos(lat)
    return np.ascontiguousarray(np.stack([c * np.cos(lon), c * np.sin(lon), np.sin(lat)], axis=1))


def reference(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """scikit-learn's haversine formula between rows ``[lat, lon]``, broadcasting (tests)."""
    dlat = A[..., 0] - B[..., 0]
    dlon = A[..., 1] - B[..., 1]
    h = np.sin(dlat / 2) ** 2 + np.cos(A[..., 0]) * np.cos(B[..., 0]) * np.sin(dlon / 2) ** 2
    return 2 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def to_user(d: np.ndarray, params: tuple[float, ...]) -> np.ndarray:
    """Chord length -> angle."""
    return 2.0 * np.arcsin(np.minimum(np.asarray(d) / 2.0, 1.0))


def radius_to_stored(r: np.ndarray, params: tuple[float, ...]) -> np.ndarray:
    """Angle -> chord length (radii beyond pi reach every point)."""
    return 2.0 * np.sin(np.minimum(np.asarray(r, dtype=np.float64), np.pi) / 2.0)


METRIC = euclidean_rows_metric(NAME, make_params=make_params, prepare=prepare, to_user=to_user,
                               radius_to_stored=radius_to_stored)
