"""Batch orders: ``f(X, rng, metric) -> permutation`` of the rows of X."""

from __future__ import annotations

import numpy as np

from .hilbert import hilbert_order


def natural_order(X: np.ndarray, rng: np.random.Generator, metric: object) -> np.ndarray:
    """Rows in the order given."""
    return np.arange(X.shape[0], dtype=np.int64)


def random_order(X: np.ndarray, rng: np.random.Generator, metric: object) -> np.ndarray:
    """A seeded random permutation (the order the PCCT analysis assumes)."""
    return rng.permutation(X.shape[0]).astype(np.int64, copy=False)


__all__ = ["hilbert_order", "natural_order", "random_order"]
