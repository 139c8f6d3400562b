"""Shared helpers of the jax code: scoped float64, shape buckets, host transfers.

Every jax computation of this package runs inside :func:`x64`, a scoped
switch to 64-bit types (``jax.enable_x64``, a context manager of jax's
configuration): the user's global jax configuration and the environment are
left as they were. Shapes handed to jitted functions are padded to
:func:`bucket` sizes (powers of two; trees to :func:`coarse_bucket` sizes,
powers of four) so the number of compilations stays bounded (about log2 of
the largest size per argument).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .. import import_extra

#: Smallest bucket of data arrays (tree nodes, points, edges): small inputs share
#: one compilation (padding a few hundred rows costs far less than compiling).
MIN_BUCKET = 1024

#: Smallest bucket of a vmapped block of queries or points.
MIN_BLOCK = 128


def jax_modules() -> tuple[Any, Any]:
    """``(jax, jax.numpy)``; ``ImportError`` naming the ``jax`` extra if missing."""
    jax = import_extra("jax", "jax", "backend 'jax'")
    return jax, import_extra("jax.numpy", "jax", "backend 'jax'")


@contextmanager
def x64() -> Iterator[None]:
    """Run the enclosed jax code with 64-bit types, restoring the previous setting after.

    Uses ``jax.enable_x64(True)`` (jax >= 0.8) or, on older releases,
    ``jax.experimental.enable_x64()``. Where neither exists and float64 is
    off, raises ``RuntimeError`` saying how to turn it on.
    """
    jax, _ = jax_modules()
    scoped = getattr(jax, "enable_x64", None)
    if callable(scoped):
        with scoped(True):
            yield
        return
    try:
        from jax.experimental import enable_x64  # older jax
    except ImportError:
        enable_x64 = None
    if enable_x64 is not None:
        with enable_x64():
            yield
        return
    if not jax.config.jax_enable_x64:
        raise RuntimeError(
            "the jax backend needs float64, and this jax release has no scoped switch for it: "
            "run jax.config.update('jax_enable_x64', True) before using backend='jax'"
        )
    yield


def bucket(n: int, minimum: int = MIN_BUCKET) -> int:
    """Smallest power of two ``>= max(n, minimum)``."""
    n = max(int(n), int(minimum), 1)
    return 1 << (n - 1).bit_length()


def coarse_bucket(n: int, minimum: int = MIN_BUCKET) -> int:
    """Smallest ``minimum * 4**j >= n``: the padded size of a tree's arrays.

    Coarser than :func:`bucket`: a build's growing tree gets a new size at
    every fourfold growth instead of every doubling, so each search kernel
    compiles for half as many tree shapes (a cold 20k-point jax build on
    CPU: 64-66 s -> 57 s, warm builds unchanged at 8.7 s) for at most 4x
    padding, which no search visits. (Search blocks padded the same way
    saved another 8 s cold but cost 8% of every warm build: padding rows are
    searched.)
    """
    size = int(minimum)
    while size < n:
        size *= 4
    return size


def pad_to(a: np.ndarray, n: int, fill: Any = 0) -> np.ndarray:
    """``a`` with its first axis padded to length ``n`` by ``fill`` (no copy if already n)."""
    a = np.asarray(a)
    if a.shape[0] == n:
        return a
    out = np.full((n, *a.shape[1:]), fill, dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


def to_host(a: Any) -> np.ndarray:
    """A host numpy array of ``a`` (a jax array or anything ``np.asarray`` takes)."""
    return np.asarray(a)
