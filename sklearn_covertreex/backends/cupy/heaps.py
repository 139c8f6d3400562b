"""Device heaps of the CUDA searches: k-best max-heaps and best-first min-heaps.

The same heaps as :mod:`sklearn_covertreex.backends.numba.heaps` (the
k-best heap is a max-heap on (distance, id), so ties go to the smaller id;
the frontier a min-heap of (lower bound, node, distance)), as CUDA device
functions over one thread's slice of a scratch array. They cannot be the
numba functions themselves: a CUDA kernel may call ``@njit`` functions on
the GPU, but numba's CUDA simulator, which runs these kernels in CI, hands
kernels wrapped arrays that compiled CPU functions do not accept. The
caller checks capacities (see :mod:`._device`).
"""

from __future__ import annotations

from numba import cuda


@cuda.jit(device=True)
def less(d1, i1, d2, i2):
    """Whether (d1, i1) sorts before (d2, i2)."""
    return d1 < d2 or (d1 == d2 and i1 < i2)


@cuda.jit(device=True)
def fpush(fk, fn, fd, size, key, node, dist):
    """Push (key, node, dist) on the min-heap of lower bounds; returns the new size."""
    pos = size
    while pos > 0:
        up = (pos - 1) // 2
        if fk[up] <= key:
            break
        fk[pos] = fk[up]
        fn[pos] = fn[up]
        fd[pos] = fd[up]
        pos = up
    fk[pos] = key
    fn[pos] = node
    fd[pos] = dist
    return size + 1


@cuda.jit(device=True)
def fpop(fk, fn, fd, size):
    """Pop the smallest key: (key, node, dist, new size)."""
    key, node, dist = fk[0], fn[0], fd[0]
    size -= 1
    lk, ln, ld = fk[size], fn[size], fd[size]
    pos = 0
    while True:
        small = 2 * pos + 1
        if small >= size:
            break
        if small + 1 < size and fk[small + 1] < fk[small]:
            small += 1
        if fk[small] >= lk:
            break
        fk[pos] = fk[small]
        fn[pos] = fn[small]
        fd[pos] = fd[small]
        pos = small
    fk[pos] = lk
    fn[pos] = ln
    fd[pos] = ld
    return key, node, dist, size


@cuda.jit(device=True)
def sift(hd, hi, pos, d, idx, end):
    """Put (d, idx) at ``pos`` of the max-heap ``hd[:end], hi[:end]`` and sift it down."""
    while True:
        big = 2 * pos + 1
        if big >= end:
            break
        if big + 1 < end and less(hd[big], hi[big], hd[big + 1], hi[big + 1]):
            big += 1
        if not less(d, idx, hd[big], hi[big]):
            break
        hd[pos] = hd[big]
        hi[pos] = hi[big]
        pos = big
    hd[pos] = d
    hi[pos] = idx


@cuda.jit(device=True)
def heap_push(hd, hi, size, k, d, idx):
    """Offer (d, idx) to the k-best max-heap of ``size`` entries; returns the new size."""
    if size < k:
        pos = size
        while pos > 0:
            up = (pos - 1) // 2
            if not less(hd[up], hi[up], d, idx):
                break
            hd[pos] = hd[up]
            hi[pos] = hi[up]
            pos = up
        hd[pos] = d
        hi[pos] = idx
        return size + 1
    if less(d, idx, hd[0], hi[0]):
        sift(hd, hi, 0, d, idx, k)
    return size


@cuda.jit(device=True)
def heap_sort(hd, hi, size):
    """Sort a max-heap of ``size`` entries in place into ascending (distance, id) order."""
    for end in range(size - 1, 0, -1):
        d, idx = hd[end], hi[end]
        hd[end] = hd[0]
        hi[end] = hi[0]
        sift(hd, hi, 0, d, idx, end)


@cuda.jit(device=True)
def sort_pairs(hd, hi, lo, n):
    """Sort ``hd[lo:lo + n], hi[lo:lo + n]`` in place into ascending (distance, id) order."""
    if n < 2:
        return
    a = hd[lo : lo + n]
    b = hi[lo : lo + n]
    for start in range(n // 2 - 1, -1, -1):
        sift(a, b, start, a[start], b[start], n)
    heap_sort(a, b, n)
