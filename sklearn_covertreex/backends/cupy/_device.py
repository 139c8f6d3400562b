"""Transfers, launches and overflow retries of the CUDA kernels.

Arrays go to the GPU with :func:`to_device` (no copy for arrays that are
already there: anything exposing ``__cuda_array_interface__``, such as a
cupy array) and come back with :func:`to_host`. Each kernel runs one
thread per row (query, batch point, pair) in blocks of
:data:`THREADS_PER_BLOCK`. A search keeps its frontier or stack in a
fixed-capacity slice of a scratch array; a row whose search outgrows it
raises its overflow flag and stops, and :func:`rerun_overflowing` runs the
flagged rows again with twice the capacity, so every answer is exact and
the scratch memory stays ``rows x capacity``, never ``rows x n``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import cuda

from ..frozen_cache import made_once

#: Threads per block of every kernel.
THREADS_PER_BLOCK = 128

#: Most rows per launch of a search kernel: bounds the scratch arrays
#: (rows x capacity entries).
ROW_BLOCK = 1 << 16


def to_device(a: Any, dtype: Any = None) -> Any:
    """``a`` on the GPU: a view where it is already there, else a copy (as ``dtype``).

    A frozen host array (read-only and owning its data, like every array of
    a finished tree) is copied once per dtype and the copy reused while the
    array lives, so the kernel calls of one tree, every query chunk
    included, upload its arrays once.
    """
    if hasattr(a, "__cuda_array_interface__"):
        return cuda.as_cuda_array(a)
    key = ("cuda", getattr(a, "dtype", None) if dtype is None else np.dtype(dtype))
    return made_once((a,), key, lambda: cuda.to_device(np.ascontiguousarray(a, dtype)))


def to_host(a: Any) -> np.ndarray:
    """A host numpy array of the device array ``a``."""
    return a.copy_to_host()


def filled(shape: Any, value: Any, dtype: Any) -> Any:
    """A device array of ``shape`` filled with ``value``."""
    return cuda.to_device(np.full(shape, value, dtype))


def launch(kernel: Any, n: int, *args: Any) -> None:
    """Run ``kernel`` on ``n`` threads (at least one block; nothing when ``n == 0``)."""
    if n > 0:
        kernel[(n + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK, THREADS_PER_BLOCK](*args)


def rerun_overflowing(run: Callable[[Any, int], np.ndarray], n: int, capacity: int) -> None:
    """Run ``run(rows, capacity)`` over ``range(n)`` until no row overflows.

    ``run`` gets a device array of row numbers (at most :data:`ROW_BLOCK`)
    and a capacity, writes its results for those rows and returns a host
    bool mask of the rows whose search overflowed; those run again with
    twice the capacity.
    """
    rows = np.arange(n, dtype=np.int64)
    while rows.size:
        again = []
        for lo in range(0, rows.shape[0], ROW_BLOCK):
            block = rows[lo : lo + ROW_BLOCK]
            over = run(to_device(block), capacity)
            again.append(block[over])
        rows = np.concatenate(again)
        capacity *= 2
