"""Batch orders: ``f(X, rng, metric) -> permutation`` of the rows of X."""

from __future__ import annotations

import numpy as np

from ...core.tree import index_dtype
from .hilbert import hilbert_order


def natural_order(X: np.ndarray, rng: np.random.Generator, metric: object) -> np.ndarray:
    """Rows in the order given."""
    return np.arange(X.shape[0], dtype=index_dtype(X.shape[0] + 1))


def random_order(X: np.ndarray, rng: np.random.Generator, metric: object) -> np.ndarray:
    """A seeded random permutation (the order the PCCT analysis assumes).

    In :func:`~sklearn_covertreex.core.tree.index_dtype` (the permutation of
    ``rng.permutation(n)``, at half its size below two billion rows).
    """
    n = X.shape[0]
    return rng.permutation(np.arange(n, dtype=index_dtype(n + 1)))


__all__ = ["hilbert_order", "natural_order", "random_order"]
