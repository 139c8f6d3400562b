"""Metric protocol and registry.

A metric knows how to compute distances between rows of a point array with
plain numpy (the reference every kernel is tested against) and whether it
exposes coordinates (strategies such as the grid conflict graph need them).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .._registry import Registry


class Metric(Protocol):
    """What tree code needs from a metric."""

    name: str
    has_coordinates: bool

    def pairwise_rows(self, points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Distances ``d(points[a[i]], points[b[i]])`` for paired index arrays."""
        ...


class Euclidean:
    """Euclidean distance, computed as ``sqrt(sum((a - b) ** 2))`` (no GEMM trick)."""

    name = "euclidean"
    has_coordinates = True

    def pairwise_rows(self, points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        diff = points[a] - points[b]
        return np.sqrt(np.einsum("ij,ij->i", diff, diff))


METRICS: Registry[Metric] = Registry("metric")
METRICS.register("euclidean", Euclidean())


def _register_residual() -> None:
    from .residual.metric import ResidualCorrelation

    METRICS.register("residual_correlation", ResidualCorrelation())


_register_residual()


def get_metric(name: str) -> Metric:
    """Return the metric registered under ``name``."""
    return METRICS.get(name)
