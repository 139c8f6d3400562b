"""Neighbour weights with scikit-learn's semantics."""

from __future__ import annotations

from typing import Any

import numpy as np


def check_weights(weights: Any, name: str = "weights") -> None:
    """``weights`` must be "uniform", "distance" or a callable."""
    if callable(weights) or (isinstance(weights, str) and weights in ("uniform", "distance")):
        return
    raise ValueError(
        f"{name} not recognized: should be 'uniform', 'distance', or a callable function, "
        f"got {weights!r}"
    )


def neighbor_weights(dist: np.ndarray, weights: Any) -> np.ndarray:
    """Weights of the neighbours of each query row.

    ``"uniform"``: ones. ``"distance"``: ``1 / d``, except that a row holding a
    zero distance gives weight 1 to its exact matches and 0 to the rest.
    A callable receives the distance array and returns weights of its shape.
    """
    if weights == "uniform":
        return np.ones_like(dist)
    if weights == "distance":
        with np.errstate(divide="ignore"):
            w = 1.0 / dist
        exact = np.isinf(w)
        rows = exact.any(axis=1)
        w[rows] = exact[rows]
        return w
    w = np.asarray(weights(dist), dtype=np.float64)
    if w.shape != dist.shape:
        raise ValueError(
            f"the weights callable returned shape {w.shape}, expected {dist.shape}"
        )
    return w
