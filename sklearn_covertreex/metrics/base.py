"""What a metric is, for every part of the package that computes distances.

A metric lives in one module under :mod:`sklearn_covertreex.metrics` and
provides a :class:`Metric`: its name, its flags, its numpy reference and
its compiled distance. The compiled kernels never look at array shapes to
decide which distance to use: they receive a *kernel metric*, an instance
of the metric's own namedtuple class holding its float64 parameter vector
``params`` (``params[0]`` is the width of one stored row). The class is the
metric's identity: the numba seam picks the compiled distance by the
argument's type when a kernel is compiled, so an evaluation costs no
branch and the distance inlines into the search loops. Rows of another
width are refused by every kernel (``check_row_width`` in the kernel contract).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: A kernel metric: an instance of a metric's ``kernel_class`` (field ``params``).
KernelMetric = Any


def kernel_class(name: str, module: str) -> type:
    """A new namedtuple class ``(params,)``: the kernel-side identity of one metric.

    Assign it to ``name`` at module level of the metric's module and pass
    that module's ``__name__``: numba's on-disk cache finds compiled kernels
    by their argument types, which it pickles by reference, so the class
    must be importable under ``module.name`` (else every process compiles
    the kernels anew).
    """
    return namedtuple(name, ["params"], module=module)


def width_params(n_columns: int) -> tuple[float, ...]:
    """``(n_columns,)``: the parameters of a metric whose only parameter is the row width."""
    return (float(n_columns),)


def power_of(value: float) -> Callable[[tuple[float, ...]], float]:
    """A :attr:`Metric.scale_power` that is the constant ``value``."""
    def scale_power(params: tuple[float, ...]) -> float:
        return value
    return scale_power


def _identity_distances(d: np.ndarray, params: tuple[float, ...]) -> np.ndarray:
    return d


@dataclass(frozen=True)
class Metric:
    """A distance as the tree, its kernels and the invariant checker see it.

    Attributes
    ----------
    name : str
        Registry name.
    kernel_class : type
        The namedtuple class (from :func:`kernel_class`) of its kernel
        metrics; the compiled kernels dispatch on it.
    has_coordinates : bool
        Whether stored rows are coordinates in which nearby points are near
        (queries and insertion batches are then visited along a Hilbert
        curve, for memory locality only: answers never depend on it).
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
    coordinate_bound : bool
        Whether every coordinate difference of two stored rows is at most
        their distance (true for Minkowski distances with ``p >= 1``): the
        grid conflict graph and the Hilbert batch order are valid only then.
    radius_to_stored : callable
        ``radius_to_stored(r, params) -> r``: a user radius as a radius on
        stored-row distances; must be the inverse of the increasing
        ``to_user`` (identity by default).
    scale_power : callable or None
        ``scale_power(params) -> float`` where the stored-row distance is
        homogeneous of degree 1 in the rows (``d(c a, c b) = c d(a, b)``
        for ``c > 0``, and ``prepare(c X) = c prepare(X)``): the largest
        power the compiled distance raises a coordinate difference to (2
        for the Euclidean family, ``p`` for Minkowski, 1 for Manhattan and
        Chebyshev). Such rows are rescaled by a power of two at ``fit`` so
        that no power overflows or underflows (see
        :mod:`sklearn_covertreex.metrics.scaling`). None (the default) for
        metrics that are scale-invariant or not on coordinates (cosine,
        correlation, canberra, haversine, hamming, boolean, residual, user
        metrics): their rows are stored as ``prepare`` makes them.
    """

    name: str
    kernel_class: type
    has_coordinates: bool
    is_true_metric: bool
    reference: Callable[..., np.ndarray]
    compiled: Any
    make_params: Callable[..., tuple[float, ...]]
    prepare: Callable[[np.ndarray, tuple[float, ...]], np.ndarray] = field(
        default=lambda X, params: X)
    to_user: Callable[[np.ndarray, tuple[float, ...]], np.ndarray] = _identity_distances
    rounding_atol2: Callable[..., np.ndarray] | None = None
    coordinate_bound: bool = False
    radius_to_stored: Callable[[np.ndarray, tuple[float, ...]], np.ndarray] = field(
        default=lambda r, params: r)
    scale_power: Callable[[tuple[float, ...]], float] | None = None

    @property
    def converts_distances(self) -> bool:
        """Whether reported distances differ from stored-row distances (``to_user`` is set)."""
        return self.to_user is not _identity_distances

    def kernel(self, params: tuple[float, ...]) -> KernelMetric:
        """The kernel metric for the compiled kernels: ``kernel_class(params)``.

        ``params`` becomes a fresh writable float64 array, so each kernel has
        one compiled specialisation per metric whatever the caller stored
        (read-only arrays type differently in numba).
        """
        return self.kernel_class(np.array(params, dtype=np.float64))

    def pairwise_rows(self, params: tuple[float, ...], rows: np.ndarray, a: np.ndarray,
                      b: np.ndarray) -> np.ndarray:
        """Reference distances ``d(rows[a[t]], rows[b[t]])`` for paired index arrays."""
        return self.reference(params, rows[a], rows[b])
