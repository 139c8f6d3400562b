"""What a metric is, for every part of the package that computes distances.

A metric lives in one module under :mod:`sklearn_covertreex.metrics` and
provides a :class:`Metric`: its name, its flags, its numpy reference and
its compiled distance. The compiled kernels never look at array shapes to
decide which distance to use: they receive a *kernel metric*, the pair
``(code, params)`` of the metric's integer code and a small float64
parameter vector whose first entry is the width of one stored row. Rows of
another width are refused by every kernel (:func:`kernel_metric` and the
backends' ``check_rows``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: A kernel metric: (metric code, parameter vector; params[0] is the row width).
KernelMetric = tuple[int, np.ndarray]


def kernel_metric(code: int, params: tuple[float, ...] | np.ndarray) -> KernelMetric:
    """The ``(code, params)`` pair the compiled kernels take (a fresh, writable array).

    A fresh writable C-ordered array keeps one compiled specialisation per
    kernel, whatever the caller stored (read-only arrays type differently
    in numba).
    """
    return int(code), np.array(params, dtype=np.float64)


@dataclass(frozen=True)
class Metric:
    """A distance as the tree, its kernels and the invariant checker see it.

    Attributes
    ----------
    name : str
        Registry name.
    code : int
        Integer code the compiled kernels dispatch on (unique per metric).
    has_coordinates : bool
        Whether stored rows are coordinates (the grid conflict graph and the
        Hilbert orders need them).
    is_true_metric : bool
        Whether the triangle inequality holds (a pseudometric is enough:
        every pruning rule of the tree relies on it).
    reference : callable
        ``reference(params, A, B) -> ndarray``: numpy distances between rows
        of ``A`` and ``B``, broadcast against each other over the leading
        axes, the row along the last axis (the twin every kernel is tested
        against).
    compiled : callable
        ``compiled(params, a, b) -> float``: the numba-compiled distance of
        two 1-D rows.
    make_params : callable
        ``make_params(n_columns, **metric_params) -> tuple of floats``: the
        parameter vector of rows with ``n_columns`` entries (raises
        ``ValueError`` / ``TypeError`` for bad ``metric_params``).
    prepare : callable
        ``prepare(X, params) -> rows``: user rows to stored rows (identity
        when the metric is computed on the rows as given).
    to_user : callable
        ``to_user(d, params) -> d``: stored-row distances to the distances
        reported to the user (identity by default).
    rounding_atol2 : callable or None
        ``rounding_atol2(params, rows, a, b)``: how far two float64
        evaluations of ``d^2`` between ``rows[a]`` and ``rows[b]`` may differ
        (None: the checker compares exactly).
    """

    name: str
    code: int
    has_coordinates: bool
    is_true_metric: bool
    reference: Callable[..., np.ndarray]
    compiled: Any
    make_params: Callable[..., tuple[float, ...]]
    prepare: Callable[[np.ndarray, tuple[float, ...]], np.ndarray] = field(
        default=lambda X, params: X)
    to_user: Callable[[np.ndarray, tuple[float, ...]], np.ndarray] = field(
        default=lambda d, params: d)
    rounding_atol2: Callable[..., np.ndarray] | None = None

    def kernel(self, params: tuple[float, ...]) -> KernelMetric:
        """The ``(code, params)`` pair for the compiled kernels."""
        return kernel_metric(self.code, params)

    def pairwise_rows(self, params: tuple[float, ...], rows: np.ndarray, a: np.ndarray,
                      b: np.ndarray) -> np.ndarray:
        """Reference distances ``d(rows[a[t]], rows[b[t]])`` for paired index arrays."""
        return self.reference(params, rows[a], rows[b])
