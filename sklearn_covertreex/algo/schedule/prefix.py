"""Prefix schedules: how the ordered points are cut into insertion batches."""

from __future__ import annotations

from collections.abc import Iterator


def doubling_schedule(n: int, already: int, base: int) -> Iterator[tuple[int, int]]:
    """Batches of ``base`` rows, then as many rows as the tree already holds.

    Parameters
    ----------
    n : int
        Rows to insert.
    already : int
        Points in the tree before the first batch.
    base : int
        Size of the first batch (and the minimum size of every batch).
    """
    start = 0
    size_in_tree = already
    while start < n:
        size = max(base, size_in_tree)
        stop = min(n, start + size)
        yield start, stop
        size_in_tree += stop - start
        start = stop


def single_schedule(n: int, already: int, base: int) -> Iterator[tuple[int, int]]:
    """All rows as one batch."""
    if n:
        yield 0, n
