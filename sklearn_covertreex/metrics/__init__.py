"""Metrics, one module each, behind one registry.

Each metric module defines a :class:`~.base.Metric` (name, code, flags,
numpy reference, compiled distance, parameter and conversion hooks). The
compiled kernels dispatch on the type of its kernel metric (see
:mod:`sklearn_covertreex.backends.numba.distance`, which finds the compiled
distance here); everything else looks metrics up here by name. Adding a
metric is one module plus one line below.
"""

from __future__ import annotations

from .._registry import Registry
from . import euclidean
from .base import KernelMetric, Metric, kernel_class
from .residual import metric as residual_correlation

METRICS: Registry[Metric] = Registry("metric")
METRICS.register(euclidean.NAME, euclidean.METRIC)
METRICS.register(residual_correlation.NAME, residual_correlation.METRIC)


def get_metric(name: str) -> Metric:
    """Return the metric registered under ``name``."""
    return METRICS.get(name)


__all__ = ["METRICS", "KernelMetric", "Metric", "get_metric", "kernel_class"]
