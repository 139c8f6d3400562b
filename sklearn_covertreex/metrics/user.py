"""Metrics of the user's own: ``metric=f`` with ``f(a, b) -> float`` on two 1-D rows.

* A **numba-compiled** ``f`` (``@numba.njit``, as pynndescent takes them) is
  called from the compiled kernels directly: it inlines into the search
  loops like the package's own distances.
* A **plain Python** ``f`` is called from the compiled kernels through
  ``numba.objmode`` (one interpreter call per distance, under the GIL): the
  answers are the same, each evaluation costs microseconds instead of
  nanoseconds.

Both are assumed to be true metrics (a pseudometric is enough): the tree's
pruning relies on the triangle inequality. :meth:`UserMetric.check_sample`
(run at every fit) evaluates it on random triples of the training rows and
raises ``ValueError`` on a clear violation; it cannot prove the opposite.
The grid conflict graph and the Hilbert batch order do not apply.

Each function gets its own kernel-metric class, made here when it is first
seen, so the kernels are compiled for it once per process. A function
defined in a source file, without closure variables, gets a class named by
a fingerprint of that file (path, size, modification time), its name and
its code: numba's on-disk cache then finds the compiled kernels in the
next process too (module ``__getattr__`` below resolves the name), and is
invalidated when the file changes, exactly as numba's own ``cache=True``
(which, like this, does not notice a changed global or callee elsewhere).
Other functions (closures, lambdas typed at a prompt) get a class that
cannot be found by name: numba then compiles the kernels anew in each
process, silently, and leaves a few MB in its cache per process.
The classes and compiled wrappers are kept in this module's caches for the
life of the process: a cache of compiled code, as numba's own dispatchers
keep, not state of any estimator.
"""

from __future__ import annotations

import hashlib
import inspect
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit, objmode
from numba.core.registry import CPUDispatcher

from .base import Metric, kernel_class, width_params

PREFIX = "user:"

#: function -> its metric (one kernel class, hence one compilation, per function)
_BY_FUNCTION: dict[Any, UserMetric] = {}
#: name -> metric
_BY_NAME: dict[str, UserMetric] = {}
#: kernel-metric class -> compiled distance ``(params, a, b)``
_COMPILED: dict[type, Any] = {}
#: fingerprinted class name -> class (see :func:`__getattr__`)
_CLASSES: dict[str, type] = {}
#: Prefix of the class names found by :func:`__getattr__`.
_STABLE = "UserRows_"

#: Random triples evaluated by :meth:`UserMetric.check_sample`.
CHECK_TRIPLES = 200


def is_compiled(fn: Any) -> bool:
    """Whether ``fn`` is a numba ``@njit`` dispatcher."""
    return isinstance(fn, CPUDispatcher)


def _compiled_wrapper(fn: Any) -> Any:
    if is_compiled(fn):
        @njit
        def call(params, a, b):
            return fn(a, b)
    else:
        @njit
        def call(params, a, b):
            with objmode(d="float64"):
                d = float(fn(a, b))
            return d
    return call


def _reference(fn: Callable[..., float]) -> Callable[..., np.ndarray]:
    def reference(params: tuple[float, ...], A: np.ndarray, B: np.ndarray) -> np.ndarray:
        A, B = np.broadcast_arrays(np.asarray(A, np.float64), np.asarray(B, np.float64))
        flat_a = A.reshape(-1, A.shape[-1])
        flat_b = B.reshape(-1, B.shape[-1])
        out = np.array([float(fn(np.ascontiguousarray(a), np.ascontiguousarray(b)))
                        for a, b in zip(flat_a, flat_b, strict=True)], dtype=np.float64)
        return out.reshape(A.shape[:-1])
    return reference


@dataclass(frozen=True)
class UserMetric(Metric):
    """A :class:`~.base.Metric` around the user's ``fn`` (pickles as ``user_metric(fn)``)."""

    fn: Any = None

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        return user_metric, (self.fn,)

    def check_sample(self, X: np.ndarray, seed: int = 0) -> None:
        """Raise ``ValueError`` if ``fn`` clearly breaks a metric's axioms on rows of X.

        Checks ``d(a, a) = 0``, ``d(a, b) >= 0``, symmetry and the triangle
        inequality on :data:`CHECK_TRIPLES` random triples (relative slack
        ``1e-9`` for rounding), and that values are finite real numbers.
        """
        n = X.shape[0]
        if n == 0:
            return
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, n, size=(min(CHECK_TRIPLES, max(1, n * n)), 3))
        fn = self.fn
        what = f"the metric {getattr(fn, '__name__', fn)!r}"
        for i, j, k in idx:
            a, b, c = X[i], X[j], X[k]
            try:
                ab, bc, ac, ba = (float(fn(a, b)), float(fn(b, c)), float(fn(a, c)),
                                  float(fn(b, a)))
                aa = float(fn(a, a))
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{what} must map two 1-D float64 rows to a float: {exc}") \
                    from exc
            values = (ab, bc, ac, ba, aa)
            if not all(math.isfinite(v) for v in values):
                raise ValueError(f"{what} returned a non-finite value on rows {i}, {j}, {k}")
            slack = 1e-9 * max(map(abs, values)) + 1e-300
            if min(values) < -slack or abs(aa) > slack:
                raise ValueError(f"{what} is not a metric: d(a, a) = {aa!r} or a negative "
                                 f"value on rows {i}, {j}")
            if abs(ab - ba) > slack:
                raise ValueError(f"{what} is not symmetric: d(a, b) = {ab!r} but "
                                 f"d(b, a) = {ba!r} (rows {i}, {j})")
            if ac > ab + bc + slack:
                raise ValueError(
                    f"{what} breaks the triangle inequality on rows {i}, {j}, {k}: "
                    f"d(a, c) = {ac!r} > d(a, b) + d(b, c) = {ab + bc!r}; a cover tree "
                    "needs a true metric to prune exactly")


def _fingerprint(fn: Any) -> str | None:
    """A stable hex digest of ``fn``'s file, name and code, or None if it has no such identity."""
    py = getattr(fn, "py_func", fn)
    code = getattr(py, "__code__", None)
    if code is None or getattr(py, "__closure__", None) or py.__name__ == "<lambda>":
        return None
    try:
        path = inspect.getsourcefile(py)
        stat = os.stat(path) if path else None
    except (OSError, TypeError):
        return None
    if stat is None:
        return None
    parts = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns, py.__module__,
             py.__qualname__, code.co_code, repr(code.co_consts), repr(code.co_names),
             is_compiled(fn))
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


def __getattr__(name: str) -> type:
    """Fingerprinted kernel-metric classes, by name (numba's cache unpickles them so).

    A name not made in this process yet gets its class now; the metric made
    later for the same fingerprint uses that very class.
    """
    if name.startswith(_STABLE):
        return _CLASSES.setdefault(name, kernel_class(name, __name__))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _new_class(fn: Any) -> type:
    digest = _fingerprint(fn)
    if digest is None:  # not found by name elsewhere: compiled anew in each process
        return kernel_class(f"UserRowsDynamic{len(_COMPILED)}", __name__)
    return __getattr__(f"{_STABLE}{digest}")


def user_metric(fn: Callable[..., float]) -> UserMetric:
    """The metric of ``fn(a, b) -> float`` (numba-compiled or plain Python), one per function."""
    if not callable(fn):
        raise TypeError(f"a metric must be a name or a callable, got {fn!r}")
    found = _BY_FUNCTION.get(fn)
    if found is not None:
        return found
    base = f"{PREFIX}{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
    name, n = base, 1
    while name in _BY_NAME:
        n += 1
        name = f"{base}#{n}"
    cls = _new_class(fn)
    compiled = _compiled_wrapper(fn)
    metric = UserMetric(name=name, kernel_class=cls, has_coordinates=True, is_true_metric=True,
                        reference=_reference(fn), compiled=compiled, make_params=width_params,
                        fn=fn)
    _COMPILED[cls] = compiled
    _BY_FUNCTION[fn] = metric
    _BY_NAME[name] = metric
    return metric


def get_user_metric(name: str) -> UserMetric:
    """The user metric made under ``name`` in this process (``ValueError`` if none)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"no user metric {name!r} in this process: pass the function "
                         "itself as metric=") from None


def compiled_distance(cls: type) -> Any:
    """The compiled distance of a user kernel-metric class, or None."""
    return _COMPILED.get(cls)
