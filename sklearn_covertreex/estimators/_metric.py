"""``metric``, ``p`` and ``metric_params`` with ``NearestNeighbors`` semantics.

:func:`resolve_metric` turns the three parameters into what scikit-learn
sets on a fitted ``NearestNeighbors`` (``effective_metric_``,
``effective_metric_params_``) and into the tree's metric (a registered name
or a user metric) with the keyword arguments of its ``make_params``. It is
the one place estimators interpret a metric.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

from ..algo.coordinates import check_coordinates
from ..metrics import ALIASES, canonical_name, get_metric
from ..metrics.base import Metric
from ..metrics.user import user_metric

#: Effective names scikit-learn keeps as given, mapped to the tree's metric.
_TREE_NAME = {**ALIASES}


@dataclass(frozen=True)
class ResolvedMetric:
    """A metric as a fitted estimator reports it and as its tree computes it."""

    effective_metric: Any
    effective_metric_params: dict[str, Any]
    tree_metric: str | Metric
    tree_params: dict[str, Any] = field(default_factory=dict)

    @property
    def metric_object(self) -> Metric:
        """The tree's :class:`~sklearn_covertreex.metrics.base.Metric`."""
        if isinstance(self.tree_metric, Metric):
            return self.tree_metric
        return get_metric(self.tree_metric)


def check_metric(value: Any, name: str = "metric") -> None:
    """A known metric name (aliases included) or a callable; ``ValueError`` names the valid ones."""
    if callable(value):
        return
    canonical_name(value)


def check_p(value: Any, name: str = "p") -> None:
    """``p >= 1`` (real, ``inf`` allowed): below 1 Minkowski is not a metric."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValueError(f"{name} must be a real number >= 1, got {value!r}")
    if value < 1:
        raise ValueError(f"{name}={value!r}: Minkowski distances with p < 1 are not metrics (the "
                         "triangle inequality fails), so a cover tree cannot serve them; "
                         "use p >= 1")


def check_metric_params(value: Any, name: str = "metric_params") -> None:
    """None or a dict."""
    if value is not None and not isinstance(value, dict):
        raise ValueError(f"{name} must be None or a dict, got {type(value).__name__}")


def resolve_metric(metric: Any, p: Any, metric_params: dict[str, Any] | None) -> ResolvedMetric:
    """Interpret the estimator's metric parameters as scikit-learn does.

    ``metric="minkowski"`` with ``p`` (or ``metric_params["p"]``) 1, 2 or
    inf and no weights becomes ``"manhattan"``, ``"euclidean"`` or
    ``"chebyshev"``; other names (aliases included) are kept as given.

    Raises
    ------
    ValueError
        For an unknown or refused metric (naming the valid ones), ``p < 1``,
        or ``metric_params`` the metric does not take.
    """
    check_metric(metric)
    check_metric_params(metric_params)
    params = dict(metric_params or {})
    if callable(metric):
        if params:
            raise ValueError("metric_params are not passed to a callable metric: bind them "
                             "into the function (e.g. a closure) instead")
        return ResolvedMetric(metric, params, user_metric(metric))
    effective_p = params.get("p", p)
    if metric in ("minkowski", "p"):
        check_p(effective_p, "p")
        params.pop("p", None)
        w = params.pop("w", None)
        effective = metric
        if w is None and effective_p == 1:
            effective = "manhattan"
        elif w is None and effective_p == 2:
            effective = "euclidean"
        elif w is None and effective_p == math.inf:
            effective = "chebyshev"
        else:
            params = {**params, "p": effective_p, "w": w}
        tree_name = canonical_name(effective)
    else:
        effective, tree_name = metric, canonical_name(metric)
    tree_params = dict(params)
    if tree_name == "minkowski":
        if math.isinf(tree_params.get("p", 2)) and tree_params.get("w") is None:
            tree_name, tree_params = "chebyshev", {}
    return ResolvedMetric(effective, params, tree_name, tree_params)


def check_metric_strategies(resolved: ResolvedMetric, conflict_graph: str,
                            batch_order: str) -> None:
    """Refuse, by name and listing the valid choices, strategies the metric does not allow."""
    metric = resolved.metric_object
    check_coordinates(metric, "conflict_graph", conflict_graph)
    check_coordinates(metric, "batch_order", batch_order)


def make_tree_params(resolved: ResolvedMetric, n_features: int) -> None:
    """Check ``metric_params`` against the metric on ``n_features`` columns (``ValueError``)."""
    metric = resolved.metric_object
    try:
        metric.make_params(n_features, **resolved.tree_params)
    except TypeError as exc:
        raise ValueError(f"metric_params {sorted(resolved.tree_params)} do not fit the "
                         f"{metric.name!r} metric: {exc}") from exc
