"""Heaps of the numpy kernels: the best-first frontier and the k-best list.

The frontier uses the sift rules of the compiled kernels, so entries with
equal bounds pop in the same order there and here.
"""

from __future__ import annotations

import math

import numpy as np


class _Frontier:
    """Min-heap of (lower bound, node, distance to node) for best-first searches.

    A plain binary heap with the sift rules of the compiled kernels, so that
    entries with equal bounds pop in the same order there and here (``heapq``
    would break such ties differently).
    """

    def __init__(self) -> None:
        self.heap: list[tuple[float, int, float]] = []

    def __len__(self) -> int:
        return len(self.heap)

    def push(self, key: float, node: int, dist: float) -> None:
        """Add an entry: sift it up past every parent with a larger key."""
        h = self.heap
        h.append((key, node, dist))
        pos = len(h) - 1
        while pos > 0:
            up = (pos - 1) // 2
            if h[up][0] <= key:
                break
            h[pos] = h[up]
            pos = up
        h[pos] = (key, node, dist)

    def pop(self) -> tuple[float, int, float]:
        """Remove and return the entry with the smallest key."""
        h = self.heap
        top = h[0]
        last = h.pop()
        size = len(h)
        if size == 0:
            return top
        pos = 0
        while True:
            left = 2 * pos + 1
            if left >= size:
                break
            small = left
            if left + 1 < size and h[left + 1][0] < h[left][0]:
                small = left + 1
            if h[small][0] >= last[0]:
                break
            h[pos] = h[small]
            pos = small
        h[pos] = last
        return top


class _KBest:
    """The k smallest (distance, id) pairs seen so far, ascending, with each id's node."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.d = np.empty(0, np.float64)
        self.i = np.empty(0, np.int64)
        self.nodes = np.empty(0, np.int64)

    def kth(self) -> float:
        """The current k-th distance, inf while fewer than k ids were seen."""
        return float(self.d[-1]) if self.d.shape[0] == self.k else math.inf

    def add(self, d: float, ids: np.ndarray, node: int) -> None:
        """Offer ``ids``, all of ``node``, at distance ``d``."""
        d_all = np.concatenate([self.d, np.full(ids.shape[0], d)])
        i_all = np.concatenate([self.i, ids.astype(np.int64)])
        n_all = np.concatenate([self.nodes, np.full(ids.shape[0], node, np.int64)])
        order = np.lexsort((i_all, d_all))[: self.k]
        self.d, self.i, self.nodes = d_all[order], i_all[order], n_all[order]
