"""Search engines of the residual-correlation metric, and the fitted index they share.

An engine answers exact k-NN, all-points k-NN, Vecchia (predecessor) k-NN
and radius queries over a :class:`ResidualIndex`:

* ``"brute"``: blocked matrix products with compiled tile passes
  (:mod:`.residual_blocked`); every pair is evaluated at BLAS speed,
  all-points queries evaluate each unordered pair once.
* ``"brute-numpy"``, ``"brute-cupy"``: the same brute force with whole-array
  numpy operations (the readable reference) or on an NVIDIA GPU with cupy
  (:mod:`.residual_array`).
* ``"brute-jax"``: the same brute force as jitted jax tile steps, float64 in
  a scoped switch (:mod:`.residual_jax`; CPU, GPU or TPU).
* ``"tree"``: a :class:`~sklearn_covertreex.CoverTree` on the metric's
  stored rows, searched with the same exact branch-and-bound as every tree;
  Vecchia queries use persistent prefix trees.

Which brute force a ``backend`` runs, and whether it has tree kernels for
this metric, is what its entry in :data:`sklearn_covertreex.backends.BACKENDS`
declares. ``algorithm="auto"`` resolves to the backend's brute force: on the
measured workloads with 64 or more inducing points (``doc/residual.md``)
the tree's triangle-inequality pruning skips too few pairs to pay for
evaluating the rest one pair at a time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._parallel import threads
from .._registry import Registry
from .._threads import kernel_threads
from ..api import CoverTree
from ..backends import BACKENDS, import_extra, resolve_backend
from ..core.tree import TreeArrays
from ..metrics.residual import ResidualModel, ResidualPoints
from ..metrics.residual.metric import NAME as METRIC_NAME
from ..runtime import Runtime
from .residual_array import knn_array, radius_array
from .residual_blocked import knn_blocked, knn_blocked_self, radius_blocked, vecchia_blocked
from .residual_jax import knn_jax, radius_jax


@dataclass(frozen=True)
class ResidualIndex:
    """Fitted state of a residual-correlation neighbour search (immutable).

    Implements the :class:`~sklearn_covertreex.index.Index` protocol on user
    rows: queries take coordinates, their residual statistics come from the
    fitted model. Ids are row numbers in fit order.

    Attributes
    ----------
    model : ResidualModel
        Kernel, inducing points and Cholesky factor.
    points : ResidualPoints
        Residual data of the indexed rows, in id order.
    algorithm : str
        The engine answering queries (a name in :data:`RESIDUAL_ENGINES`).
    tree : TreeArrays or None
        The cover tree on stored rows (engine ``"tree"`` only).
    diagnostics : dict
        How the index was built: engine and why, timings, tree counters.
    runtime : Runtime or None
        Strategy choices and ``n_jobs`` of the queries (None: ``Runtime()``).
    """

    model: ResidualModel
    points: ResidualPoints
    algorithm: str
    tree: TreeArrays | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    runtime: Runtime | None = None

    @property
    def n_points(self) -> int:
        """Number of indexed rows."""
        return self.points.n

    def with_runtime(self, runtime: Runtime) -> ResidualIndex:
        """The same index (nothing copied) under other runtime choices."""
        return replace(self, runtime=runtime)

    def _engine(self) -> Any:
        return RESIDUAL_ENGINES.get(self.algorithm)

    def _rt(self) -> Runtime:
        return Runtime() if self.runtime is None else self.runtime

    def _points(self, X: np.ndarray) -> ResidualPoints:
        return residual_points(self._rt(), self.model, X)

    def insert(self, X: np.ndarray, progress: Any = None) -> ResidualIndex:
        """A new index holding these rows followed by ``X``'s (ids continue)."""
        new = self._points(X)
        tree = self._engine().extend(self._rt(), self, new, progress)
        return replace(self, points=self.points.concat(new), tree=tree)

    def delete(self, ids: Any) -> ResidualIndex:
        """Not offered: ids of a residual index are its row numbers."""
        raise NotImplementedError("residual-correlation indexes do not support delete")

    def knn(self, X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest indexed rows of every row of ``X`` (validated float64)."""
        return self._engine().knn(self._rt(), self, self._points(X), k)

    def knn_self(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest other indexed rows of every indexed row."""
        return self._engine().knn_self(self._rt(), self, k)

    def vecchia(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Each row's k nearest earlier rows, padded with -1 / inf."""
        return self._engine().vecchia(self._rt(), self, k)

    def radius(self, X: np.ndarray, r: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Indexed rows within ``r`` of each row of ``X``, as CSR (indptr, distances, ids)."""
        return self._engine().radius(self._rt(), self, self._points(X), r)

    def radius_self(self, r: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Other indexed rows within ``r`` of each indexed row, as CSR."""
        return self._engine().radius(self._rt(), self, None, r)


class _NoStructure:
    """Engines that evaluate every pair: nothing to build or extend beyond the statistics."""

    def build(self, runtime: Runtime, model: ResidualModel, points: ResidualPoints,
              progress: Any = None) -> TreeArrays | None:
        return None

    def extend(self, runtime: Runtime, index: ResidualIndex, new: ResidualPoints,
               progress: Any = None) -> TreeArrays | None:
        return None


class BruteEngine(_NoStructure):
    """Blocked matrix products with compiled tile passes (CPU)."""

    def check_available(self) -> None:
        """Nothing to import: numba is a dependency."""

    def knn(self, runtime: Runtime, index: ResidualIndex, Q: ResidualPoints, k: int):
        d, i, _ = knn_blocked(index.model, Q, index.points, k, kernel_threads(runtime.n_jobs))
        return d, i

    def knn_self(self, runtime: Runtime, index: ResidualIndex, k: int):
        d, i, _ = knn_blocked_self(index.model, index.points, k, kernel_threads(runtime.n_jobs))
        return d, i

    def vecchia(self, runtime: Runtime, index: ResidualIndex, k: int):
        d, i, _ = vecchia_blocked(index.model, index.points, k, kernel_threads(runtime.n_jobs))
        return d, i

    def radius(self, runtime: Runtime, index: ResidualIndex, Q: ResidualPoints | None,
               r: float):
        P = index.points
        query = P if Q is None else Q
        return radius_blocked(index.model, query, P, np.full(query.n, r),
                              exclude_self=Q is None, n_workers=kernel_threads(runtime.n_jobs))


class ArrayBruteEngine(_NoStructure):
    """The blocked brute force with whole-array operations of numpy or cupy.

    ``"numpy"`` is the readable reference; ``"cupy"`` runs on an NVIDIA GPU.
    """

    def __init__(self, module: str, extra: str | None) -> None:
        self.module = module
        self.extra = extra

    def xp(self) -> Any:
        """The array module (raises ImportError naming the extra if it is missing)."""
        return import_extra(self.module, self.extra, f"backend {self.module!r}")

    def check_available(self) -> None:
        """Import the array module now (ImportError naming the extra)."""
        self.xp()

    def knn(self, runtime: Runtime, index: ResidualIndex, Q: ResidualPoints, k: int):
        return knn_array(self.xp(), index.model, Q, index.points, k, "all")

    def knn_self(self, runtime: Runtime, index: ResidualIndex, k: int):
        return knn_array(self.xp(), index.model, index.points, index.points, k, "self")

    def vecchia(self, runtime: Runtime, index: ResidualIndex, k: int):
        return knn_array(self.xp(), index.model, index.points, index.points, k,
                         "predecessors")

    def radius(self, runtime: Runtime, index: ResidualIndex, Q: ResidualPoints | None,
               r: float):
        P = index.points
        return radius_array(self.xp(), index.model, P if Q is None else Q, P, r,
                            exclude_self=Q is None)


class JaxBruteEngine(_NoStructure):
    """The blocked brute force as jitted jax tile steps (:mod:`.residual_jax`)."""

    def check_available(self) -> None:
        """Import jax now (ImportError naming the ``jax`` extra)."""
        import_extra("jax", "jax", "backend 'jax'")

    def knn(self, runtime: Runtime, index: ResidualIndex, Q: ResidualPoints, k: int):
        return knn_jax(index.model, Q, index.points, k, "all")

    def knn_self(self, runtime: Runtime, index: ResidualIndex, k: int):
        return knn_jax(index.model, index.points, index.points, k, "self")

    def vecchia(self, runtime: Runtime, index: ResidualIndex, k: int):
        return knn_jax(index.model, index.points, index.points, k, "predecessors")

    def radius(self, runtime: Runtime, index: ResidualIndex, Q: ResidualPoints | None,
               r: float):
        P = index.points
        return radius_jax(index.model, P if Q is None else Q, P, r, exclude_self=Q is None)


class TreeEngine:
    """A :class:`~sklearn_covertreex.CoverTree` on the metric's stored rows."""

    def check_available(self) -> None:
        """The tree kernels are checked when the tree is made."""

    @staticmethod
    def _tree(runtime: Runtime, model: ResidualModel, arrays: TreeArrays | None) -> CoverTree:
        return CoverTree(runtime, metric=METRIC_NAME, metric_params=model.metric_params(),
                         _arrays=arrays)

    def build(self, runtime: Runtime, model: ResidualModel, points: ResidualPoints,
              progress: Any = None) -> TreeArrays | None:
        return self._tree(runtime, model, None).fit(model.pack(points), progress=progress).arrays

    def extend(self, runtime: Runtime, index: ResidualIndex, new: ResidualPoints,
               progress: Any = None) -> TreeArrays | None:
        tree = self._tree(runtime, index.model, index.tree)
        return tree.insert(index.model.pack(new), progress=progress).arrays

    def knn(self, runtime: Runtime, index: ResidualIndex, Q: ResidualPoints, k: int):
        return self._tree(runtime, index.model, index.tree).knn(index.model.pack(Q), k)

    def knn_self(self, runtime: Runtime, index: ResidualIndex, k: int):
        return self._tree(runtime, index.model, index.tree).knn_self(k)

    def vecchia(self, runtime: Runtime, index: ResidualIndex, k: int):
        return self._tree(runtime, index.model, index.tree).vecchia(k)

    def radius(self, runtime: Runtime, index: ResidualIndex, Q: ResidualPoints | None,
               r: float):
        tree = self._tree(runtime, index.model, index.tree)
        if Q is None:
            return tree.radius_self(r)
        return tree.radius(index.model.pack(Q), r)


#: engine name -> engine
RESIDUAL_ENGINES: Registry[Any] = Registry("residual engine")
RESIDUAL_ENGINES.register("brute", BruteEngine())
RESIDUAL_ENGINES.register("brute-numpy", ArrayBruteEngine("numpy", None))
RESIDUAL_ENGINES.register("brute-cupy", ArrayBruteEngine("cupy", "cupy"))
RESIDUAL_ENGINES.register("brute-jax", JaxBruteEngine())
RESIDUAL_ENGINES.register("tree", TreeEngine())

#: What ``algorithm`` means: a function of the backend's registry entry.
ALGORITHMS: Registry[Any] = Registry("algorithm")
ALGORITHMS.register("auto", lambda backend: backend.residual_brute)
ALGORITHMS.register("brute", lambda backend: backend.residual_brute)
ALGORITHMS.register("tree", lambda backend: "tree" if backend.provides_tree(METRIC_NAME)
                    else None)


def residual_points(runtime: Runtime, model: ResidualModel, X: np.ndarray) -> ResidualPoints:
    """``model.points(X)``: the residual statistics of ``X``, on the runtime's threads."""
    with threads(kernel_threads(runtime.n_jobs)):
        return model.points(X)


def check_choices(algorithm: Any, backend: Any) -> None:
    """Raise ``ValueError`` naming the valid choices for an unknown algorithm or backend."""
    ALGORITHMS.check(algorithm)
    BACKENDS.check(backend)


def resolve_algorithm(algorithm: str, model: ResidualModel,
                      backend: str = "auto") -> tuple[str, str]:
    """The engine for ``algorithm`` on ``backend``, and the reason, for the diagnostics.

    Raises
    ------
    ValueError
        For an unknown name, a backend that does not provide ``algorithm``
        for this metric, or ``"tree"`` with a kernel without a fast path.
    """
    check_choices(algorithm, backend)
    name = ALGORITHMS.get(algorithm)(resolve_backend(backend))
    if name is None:
        able = [b for b in BACKENDS.names() if BACKENDS.get(b).provides_tree(METRIC_NAME)]
        raise ValueError(
            f"algorithm={algorithm!r} has compiled kernels only: use backend="
            + " or ".join(repr(b) for b in ["auto", *able])
            + f", or algorithm='brute' with backend={backend!r}"
        )
    if name == "tree":
        model.require_fast_path()
    if algorithm == "auto":
        return name, (
            "auto: blocked brute force; the tree's exact pruning skips too few pairs under "
            "this metric to pay for single-pair evaluations (doc/residual.md)"
        )
    return name, "requested"


def build_index(runtime: Runtime, model: ResidualModel, points: ResidualPoints, algorithm: str,
                progress: Any = None, backend: str = "auto") -> ResidualIndex:
    """Index ``points`` with the engine chosen by ``algorithm`` and ``backend``.

    ``runtime.backend`` must be a backend with tree kernels for this metric
    when the engine is ``"tree"``; it is set from ``backend`` here.
    """
    name, reason = resolve_algorithm(algorithm, model, backend)
    engine = RESIDUAL_ENGINES.get(name)
    engine.check_available()
    if name == "tree":
        runtime = runtime.replace(backend=backend)
    t0 = time.perf_counter()
    tree = engine.build(runtime, model, points, progress)
    diagnostics = {
        "algorithm": name, "reason": reason, "n_inducing": model.n_inducing,
        "fast_kernel": model.fast is not None, "build_seconds": time.perf_counter() - t0,
        "tree": None if tree is None else tree.diagnostics,
    }
    return ResidualIndex(model, points, name, tree, diagnostics, runtime)


__all__ = ["ALGORITHMS", "RESIDUAL_ENGINES", "ResidualIndex", "build_index", "check_choices",
           "resolve_algorithm"]
