"""Prefix schedules: ``f(n, already, base) -> iterator of (lo, hi)`` insertion batches."""

from .prefix import doubling_schedule, single_schedule

__all__ = ["doubling_schedule", "single_schedule"]
