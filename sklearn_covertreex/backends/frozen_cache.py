"""Device copies of a finished tree's arrays, made once while the arrays live.

A finished tree's arrays (:class:`~sklearn_covertreex.core.tree.TreeArrays`)
are read-only numpy arrays that own their data: nothing can change them. A
device backend (jax, cupy) that moves such arrays to its device can keep the
copy and reuse it for every later kernel call on the same arrays (each query
chunk, each ``kneighbors`` call), instead of uploading the tree each time.
The copy is dropped when any of its host arrays is freed. Arrays that could
still change (a builder's, a caller's writeable ones) are never cached.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

#: (identities of the host arrays, caller's key) -> the value made from them.
_COPIES: dict[tuple[Hashable, ...], Any] = {}


def is_frozen(a: Any) -> bool:
    """Whether ``a`` is a host array nothing can change: read-only and owning its data.

    Parameters
    ----------
    a : object

    Returns
    -------
    bool
    """
    return isinstance(a, np.ndarray) and not a.flags.writeable and a.flags.owndata


def made_once(arrays: Sequence[Any], key: Hashable, make: Callable[[], T]) -> T:
    """``make()``, computed once per (``arrays``, ``key``) while every array lives.

    Parameters
    ----------
    arrays : sequence of arrays or None
        The host arrays the value is made from (``None`` entries are
        skipped). Unless every one is :func:`is_frozen`, nothing is cached.
    key : hashable
        What else the value depends on (a dtype, the root, ...).
    make : callable
        Makes the value (e.g. the device copies).

    Returns
    -------
    The cached or new value.
    """
    present = [a for a in arrays if a is not None]
    if not all(is_frozen(a) for a in present):
        return make()
    full = (tuple(id(a) if a is not None else None for a in arrays), key)
    value = _COPIES.get(full)
    if value is None:
        value = make()
        _COPIES[full] = value
        for a in present:  # an id is not reused before its array's finalizer ran
            weakref.finalize(a, _COPIES.pop, full, None)
    return value


def cached_count() -> int:
    """Number of values held (for tests).

    Returns
    -------
    int
    """
    return len(_COPIES)
