"""Metrics, one module each, behind one registry.

Each metric module defines a :class:`~.base.Metric` (name, flags, numpy
reference, compiled distance, parameter and conversion hooks). The compiled
kernels dispatch on the type of its kernel metric (see
:mod:`sklearn_covertreex.backends.numba.distance`, which finds the compiled
distance here); everything else looks metrics up here by name. Adding a
metric is one module plus one line below. :data:`ALIASES` holds
scikit-learn's other names of them, :data:`REFUSED` the distances a tree
cannot serve exactly (and why); metrics of the user's own (a numba-compiled
or Python ``f(a, b)``) are made by :func:`.user.user_metric`.
"""

from __future__ import annotations

from .._registry import Registry
from . import (
    boolean,
    canberra,
    chebyshev,
    cosine,
    euclidean,
    hamming,
    haversine,
    mahalanobis,
    manhattan,
    minkowski,
)
from .base import KernelMetric, Metric, kernel_class
from .residual import metric as residual_correlation

METRICS: Registry[Metric] = Registry("metric")
METRICS.register(euclidean.NAME, euclidean.METRIC)
METRICS.register(residual_correlation.NAME, residual_correlation.METRIC)
METRICS.register(manhattan.NAME, manhattan.METRIC)
METRICS.register(chebyshev.NAME, chebyshev.METRIC)
METRICS.register(minkowski.NAME, minkowski.METRIC)
METRICS.register(mahalanobis.SEUCLIDEAN, mahalanobis.SEUCLIDEAN_METRIC)
METRICS.register(mahalanobis.NAME, mahalanobis.METRIC)
METRICS.register(mahalanobis.SQEUCLIDEAN, mahalanobis.SQEUCLIDEAN_METRIC)
METRICS.register(haversine.NAME, haversine.METRIC)
METRICS.register(hamming.NAME, hamming.METRIC)
METRICS.register(canberra.NAME, canberra.METRIC)
METRICS.register(cosine.NAME, cosine.METRIC)
METRICS.register(cosine.CORRELATION, cosine.CORRELATION_METRIC)
for _name, _metric in boolean.METRICS.items():
    METRICS.register(_name, _metric)

#: scikit-learn's other names -> registered name
ALIASES = {"l2": "euclidean", "cityblock": "manhattan", "l1": "manhattan",
           "infinity": "chebyshev", "p": "minkowski"}

#: Distances a tree cannot serve exactly -> why (the ``ValueError`` says so).
REFUSED = {
    "braycurtis": "Bray-Curtis is not a metric (the triangle inequality fails: "
                  "d([0],[2]) = 1 > d([0],[1]) + d([1],[2]) = 1/3 + 1/3)",
    "dice": "Dice is not a metric (the triangle inequality fails); 'jaccard' is its metric "
            "relative",
    "russellrao": "Russell-Rao is not a metric (a row is not at distance 0 from itself)",
    "kulsinski": "Kulsinski is not a metric",
    "yule": "Yule is not a metric",
    "jensenshannon": "the Jensen-Shannon divergence is not a metric (its square root is)",
    "nan_euclidean": "nan_euclidean is not a metric (missing values)",
    "precomputed": "a precomputed distance matrix has no rows to build a tree on; use "
                   "scikit-learn's NearestNeighbors(metric='precomputed')",
}


def canonical_name(name: str) -> str:
    """The registered name of ``name`` (aliases resolved); ``ValueError`` naming valid ones."""
    if isinstance(name, str):
        name = ALIASES.get(name, name)
        if name in REFUSED:
            raise ValueError(f"metric {name!r} cannot be served by a cover tree: {REFUSED[name]}")
        if name in METRICS or name.startswith(USER_PREFIX):
            return name
    raise ValueError(f"Unknown metric {name!r}; valid choices are: "
                     + ", ".join(repr(n) for n in (*METRICS.names(), *ALIASES))
                     + ", or a callable f(a, b) -> float")


#: Names of user metrics start with this (see :mod:`.user`).
USER_PREFIX = "user:"


def get_metric(name: str) -> Metric:
    """Return the metric registered under ``name`` (an alias or a user metric's name too)."""
    name = canonical_name(name)
    if name.startswith(USER_PREFIX):
        from .user import get_user_metric

        return get_user_metric(name)
    return METRICS.get(name)


__all__ = ["ALIASES", "METRICS", "REFUSED", "KernelMetric", "Metric", "canonical_name",
           "get_metric", "kernel_class"]
