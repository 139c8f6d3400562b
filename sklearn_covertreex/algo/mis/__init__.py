"""Maximal-independent-set strategies: ``f(ctx, n, ei, ej, rng) -> (mask, rounds)``."""

from .luby import luby

__all__ = ["luby"]
