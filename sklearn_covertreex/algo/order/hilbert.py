"""Hilbert-curve order of points (Euclidean coordinates only)."""

from __future__ import annotations

import numpy as np

from ..coordinates import check_coordinates

MAX_HILBERT_DIMS = 16


def _hilbert_keys(cells: np.ndarray, bits: int) -> np.ndarray:
    """Hilbert index of integer cells (n, k) with ``bits`` bits per axis (Skilling's transform)."""
    x = [np.ascontiguousarray(cells[:, i], dtype=np.uint64) for i in range(cells.shape[1])]
    n_dims = len(x)
    zero = np.uint64(0)
    top = np.uint64(1) << np.uint64(bits - 1)
    # inverse undo excess work
    q = top
    while q > 1:
        p = q - np.uint64(1)
        for i in range(n_dims):
            hit = (x[i] & q) != 0
            if i == 0:
                x[0] ^= np.where(hit, p, zero)
                continue
            t = np.where(hit, zero, (x[0] ^ x[i]) & p)
            x[0] ^= np.where(hit, p, t)
            x[i] ^= t
        q >>= np.uint64(1)
    # Gray encode
    for i in range(1, n_dims):
        x[i] ^= x[i - 1]
    t = np.zeros_like(x[0])
    q = top
    while q > 1:
        t ^= np.where((x[n_dims - 1] & q) != 0, q - np.uint64(1), zero)
        q >>= np.uint64(1)
    for i in range(n_dims):
        x[i] ^= t
    # interleave: most significant bit of every axis first
    key = np.zeros_like(x[0])
    one = np.uint64(1)
    for b in range(bits - 1, -1, -1):
        shift = np.uint64(b)
        for i in range(n_dims):
            key = (key << one) | ((x[i] >> shift) & one)
    return key


def hilbert_order(X: np.ndarray, rng: np.random.Generator, metric: object) -> np.ndarray:
    """Permutation sorting the rows of X along a Hilbert curve.

    Uses the (at most 16) coordinates of largest spread, quantised to as many
    bits per axis as fit in 63 bits. Ties keep their input order.
    """
    check_coordinates(metric, "batch_order", "hilbert")
    return hilbert_permutation(X)


def hilbert_permutation(X: np.ndarray) -> np.ndarray:
    """The permutation of :func:`hilbert_order`, for any rows (no metric check).

    For memory locality only (queries, insertion batches), where the answer
    does not depend on the order.
    """
    n, d = X.shape
    if n < 2:
        return np.arange(n, dtype=np.int64)
    lo = X.min(axis=0)
    spread = X.max(axis=0) - lo
    dims = np.argsort(-spread, kind="stable")[: min(MAX_HILBERT_DIMS, d)]
    bits = max(1, min(16, 63 // dims.size))
    scale = np.where(spread[dims] > 0, spread[dims], 1.0)
    unit = (X[:, dims] - lo[dims]) / scale
    cells = np.minimum(np.floor(unit * (1 << bits)), (1 << bits) - 1)
    keys = _hilbert_keys(cells, bits)
    return np.argsort(keys, kind="stable").astype(np.int64)
