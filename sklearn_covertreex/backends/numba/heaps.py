"""Bounded k-best heaps and best-first frontiers (numba).

The k-best heap is a max-heap on (distance, id) of capacity k, so the
current k-th neighbour sits at the top and ties go to the smaller id; the
frontier is a min-heap of (lower bound, node, distance) for best-first
searches. Both are plain arrays grown by doubling. A search allocates its
frontier as three arrays of :data:`FRONTIER_START` entries (keys, nodes,
distances) and grows each with :func:`_grow`: helpers taking or returning the
three as a tuple cost about 1.5 s of a cold start.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Initial capacity of a best-first frontier.
FRONTIER_START = 64


@njit(cache=True)
def _grow(a, need):
    cap = a.shape[0]
    while cap < need:
        cap *= 2
    out = np.empty(cap, a.dtype)
    for t in range(a.shape[0]):  # a loop compiles much faster than a slice assignment
        out[t] = a[t]
    return out


@njit(cache=True, inline="always")
def _fpush(fk, fn, fd, size, key, node, dist):
    """Push (key, node, dist) on a min-heap of lower bounds (capacity ensured by caller)."""
    pos = size
    while pos > 0:
        up = (pos - 1) // 2
        if fk[up] > key:
            fk[pos] = fk[up]
            fn[pos] = fn[up]
            fd[pos] = fd[up]
            pos = up
        else:
            break
    fk[pos] = key
    fn[pos] = node
    fd[pos] = dist
    return size + 1


@njit(cache=True, inline="always")
def _fpop(fk, fn, fd, size):
    """Pop the smallest key; returns (key, node, dist, new size)."""
    key, node, dist = fk[0], fn[0], fd[0]
    size -= 1
    lk, ln, ld = fk[size], fn[size], fd[size]
    pos = 0
    while True:
        left = 2 * pos + 1
        if left >= size:
            break
        small = left
        if left + 1 < size and fk[left + 1] < fk[left]:
            small = left + 1
        if fk[small] < lk:
            fk[pos] = fk[small]
            fn[pos] = fn[small]
            fd[pos] = fd[small]
            pos = small
        else:
            break
    fk[pos] = lk
    fn[pos] = ln
    fd[pos] = ld
    return key, node, dist, size


@njit(cache=True, inline="always")
def _less(d1, i1, d2, i2):
    return d1 < d2 or (d1 == d2 and i1 < i2)


@njit(cache=True)
def _heap_push(hd, hi, size, k, d, idx):
    """Max-heap on (distance, id) of capacity k; returns the new size."""
    return _heap_push_carry(hd, hi, hi, size, k, d, idx, idx)


@njit(cache=True)
def _heap_push_carry(hd, hi, hc, size, k, d, idx, carried):
    """:func:`_heap_push` whose entries each carry a value in ``hc`` (moved with them).

    The k-NN search carries each id's node, so the nodes of a finished
    query's neighbours are at hand to seed the next query. Passing ``hi``
    as ``hc`` (and ``idx`` as ``carried``) is the plain heap.
    """
    if size < k:
        pos = size
        size += 1
        while pos > 0:
            up = (pos - 1) // 2
            if _less(hd[up], hi[up], d, idx):
                hd[pos] = hd[up]
                hi[pos] = hi[up]
                hc[pos] = hc[up]
                pos = up
            else:
                break
        hd[pos] = d
        hi[pos] = idx
        hc[pos] = carried
        return size
    if not _less(d, idx, hd[0], hi[0]):
        return size
    _sift_carry(hd, hi, hc, 0, d, idx, carried, k)
    return size


@njit(cache=True, inline="always")
def _sift_carry(hd, hi, hc, pos, d, idx, carried, end):
    """Put (d, idx), carrying ``carried``, at ``pos`` of the max-heap hd[:end] and sift it down."""
    while True:
        left = 2 * pos + 1
        if left >= end:
            break
        big = left
        right = left + 1
        if right < end and _less(hd[left], hi[left], hd[right], hi[right]):
            big = right
        if _less(d, idx, hd[big], hi[big]):
            hd[pos] = hd[big]
            hi[pos] = hi[big]
            hc[pos] = hc[big]
            pos = big
        else:
            break
    hd[pos] = d
    hi[pos] = idx
    hc[pos] = carried


@njit(cache=True, inline="always")
def _sift_from(hd, hi, pos, d, idx, end):
    """Put (d, idx) at ``pos`` of the max-heap hd[:end], hi[:end] and sift it down."""
    _sift_carry(hd, hi, hi, pos, d, idx, idx, end)


@njit(cache=True, inline="always")
def _sift_down(hd, hi, d, idx, end):
    """Put (d, idx) at the top of the max-heap hd[:end], hi[:end] and restore order."""
    _sift_from(hd, hi, 0, d, idx, end)


@njit(cache=True)
def _heap_sort(hd, hi, size):
    """Sort a max-heap in place into ascending (distance, id) order."""
    for end in range(size - 1, 0, -1):
        d, idx = hd[end], hi[end]
        hd[end], hi[end] = hd[0], hi[0]
        _sift_down(hd, hi, d, idx, end)


@njit(cache=True)
def _sort_pairs(hd, hi):
    """Sort (hd, hi) in place into ascending (distance, id) order (heap sort)."""
    n = hd.shape[0]
    for start in range(n // 2 - 1, -1, -1):
        _sift_from(hd, hi, start, hd[start], hi[start], n)
    _heap_sort(hd, hi, n)
