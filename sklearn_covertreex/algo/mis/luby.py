"""Luby-style maximal independent set with seeded random priorities."""

from __future__ import annotations

import numpy as np

from ..view import Context


def luby(
    ctx: Context, n: int, ei: np.ndarray, ej: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, int]:
    """Maximal independent set of the graph on ``n`` vertices with edges (ei, ej).

    Priorities are a random permutation drawn from ``rng``, so the result is
    deterministic for a given seed and identical on every backend.
    """
    if ei.size == 0:
        return np.ones(n, dtype=bool), 0
    src = np.concatenate((ei, ej))
    dst = np.concatenate((ej, ei))
    order = np.argsort(src, kind="stable")
    indices = dst[order].astype(np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    priority = rng.permutation(n).astype(np.int64)
    mask, rounds = ctx.backend.luby_mis(indptr, indices, priority)
    return np.asarray(mask, dtype=bool), int(rounds)
