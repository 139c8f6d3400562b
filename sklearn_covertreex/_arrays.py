"""Arrays in, arrays out: input of any array library, output in the input's namespace.

Every entry point accepts arrays of any library that implements the array
API standard (jax, cupy, ...) or numpy's ``__array__``: :func:`to_host`
turns them into host numpy arrays before validation. Under scikit-learn's
``array_api_dispatch=True`` config, results are returned in the input's
namespace and on its device (:func:`returns_input_namespace`), the way
scikit-learn's array-API estimators do; otherwise, and for numpy input,
they are numpy arrays. Distances stay float64 and indices int64 in every
namespace: a namespace whose float64 needs a scoped switch (jax) gets its
arrays made inside that switch (:data:`SCOPES`), the user's configuration
is left as it was.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, NamedTuple

import numpy as np
from sklearn import get_config


class Namespace(NamedTuple):
    """An array namespace and the device of the input it came from."""

    xp: Any
    device: Any


def _jax_x64() -> AbstractContextManager[None]:
    from .backends.jax._common import x64

    return x64()


#: namespace module name -> context manager factory its float64 arrays are made in.
SCOPES: dict[str, Callable[[], AbstractContextManager[None]]] = {
    "jax.numpy": _jax_x64,
}


def _foreign(X: Any) -> bool:
    """Whether ``X`` is an array of a library other than numpy."""
    return (X is not None and not isinstance(X, np.ndarray)
            and hasattr(X, "__array_namespace__"))


def to_host(X: Any) -> Any:
    """``X`` as a host numpy array when it is another library's array; else ``X`` unchanged.

    Uses ``np.asarray`` (``__array__``), or the array's ``get()`` for
    libraries that refuse an implicit device-to-host copy (cupy).
    """
    if not _foreign(X):
        return X
    try:
        return np.asarray(X)
    except TypeError:
        get = getattr(X, "get", None)
        if callable(get):
            return np.asarray(get())
        raise


def output_namespace(X: Any) -> Namespace | None:
    """The namespace results of ``X`` go back to: only under ``array_api_dispatch=True``."""
    if not _foreign(X) or not get_config().get("array_api_dispatch", False):
        return None
    return Namespace(X.__array_namespace__(), getattr(X, "device", None))


def _convert(out: Any, ns: Namespace) -> Any:
    if isinstance(out, tuple):
        return tuple(_convert(o, ns) for o in out)
    if isinstance(out, np.ndarray) and out.dtype != object:
        try:
            return ns.xp.asarray(out, device=ns.device)
        except TypeError:  # a namespace without the device keyword
            return ns.xp.asarray(out)
    return out  # sparse matrices, object arrays of rows: scikit-learn returns them as is


def from_host(out: Any, ns: Namespace | None) -> Any:
    """Host results (an array or a tuple of them) in namespace ``ns`` (None: unchanged)."""
    if ns is None:
        return out
    scope = SCOPES.get(getattr(ns.xp, "__name__", ""), nullcontext)
    with scope():
        return _convert(out, ns)


def returns_input_namespace(method: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate ``method(self, X, ...)``: X goes in as host numpy, results go back as X's kind."""

    @functools.wraps(method)
    def wrapper(self: Any, X: Any = None, *args: Any, **kwargs: Any) -> Any:
        ns = output_namespace(X)
        return from_host(method(self, to_host(X), *args, **kwargs), ns)

    return wrapper


__all__ = ["SCOPES", "Namespace", "from_host", "output_namespace", "returns_input_namespace",
           "to_host"]
