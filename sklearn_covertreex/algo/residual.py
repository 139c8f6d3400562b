"""Query engines for the residual-correlation metric, behind one registry.

An engine answers exact k-NN, all-points k-NN, Vecchia (predecessor) k-NN
and radius queries over a :class:`ResidualIndex`:

* ``"brute"``: blocked matrix products (:mod:`..metrics.residual.blocked`);
  every pair is evaluated at BLAS speed, all-points queries evaluate each
  unordered pair once.
* ``"tree"``: the parallel compressed cover tree built on packed residual
  rows, searched with the same exact branch-and-bound as the Euclidean tree;
  Vecchia queries use persistent prefix trees.

* ``"brute-numpy"``, ``"brute-cupy"``: the same brute force with whole-array
  numpy operations (the readable reference) or on an NVIDIA GPU with cupy
  (``backend="numpy"`` / ``"cupy"``).

``algorithm="auto"`` resolves to the brute force of the chosen backend: on
the measured workloads with 64 or more inducing points (see
``doc/residual.md``) the tree's triangle-inequality pruning skips too few
pairs to pay for evaluating the rest one pair at a time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._registry import Registry
from ..core.tree import TreeArrays
from ..metrics import get_metric
from ..metrics.residual import ResidualModel, ResidualPoints
from ..metrics.residual.blocked import (
    knn_blocked,
    knn_blocked_self,
    radius_blocked,
    vecchia_blocked,
)
from ..metrics.residual.blocked_array import knn_array, radius_array
from .batch import insert_points
from .batch.builder import empty_tree
from .query import knn_query, predecessor_knn, radius_query
from .view import Context

METRIC_NAME = "residual_correlation"


@dataclass(frozen=True)
class ResidualIndex:
    """Fitted state of a residual-correlation neighbour search (immutable).

    Attributes
    ----------
    model : ResidualModel
        Kernel, inducing points and Cholesky factor.
    points : ResidualPoints
        Residual data of the indexed rows, in id order.
    algorithm : str
        The engine answering queries ("brute" or "tree").
    tree : TreeArrays or None
        The cover tree on packed rows (engine "tree" only).
    diagnostics : dict
        How the index was built: engine and why, timings, tree counters.
    """

    model: ResidualModel
    points: ResidualPoints
    algorithm: str
    tree: TreeArrays | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)


class BruteEngine:
    """Blocked matrix products: exact, every pair evaluated at BLAS speed."""

    name = "brute"

    def build(self, ctx: Context, model: ResidualModel, points: ResidualPoints,
              progress: Any = None) -> TreeArrays | None:
        return None

    def extend(self, ctx: Context, index: ResidualIndex, new: ResidualPoints,
               progress: Any = None) -> TreeArrays | None:
        return None

    def knn(self, ctx: Context, index: ResidualIndex, Q: ResidualPoints, k: int):
        d, i, _ = knn_blocked(index.model, Q, index.points, k, ctx.runtime.n_jobs)
        return d, i

    def knn_self(self, ctx: Context, index: ResidualIndex, k: int):
        d, i, _ = knn_blocked_self(index.model, index.points, k, ctx.runtime.n_jobs)
        return d, i

    def vecchia(self, ctx: Context, index: ResidualIndex, k: int):
        d, i, _ = vecchia_blocked(index.model, index.points, k, ctx.runtime.n_jobs)
        return d, i

    def radius(self, ctx: Context, index: ResidualIndex, Q: ResidualPoints | None, r: float):
        P = index.points
        query = P if Q is None else Q
        return radius_blocked(index.model, query, P, np.full(query.n, r),
                              exclude_self=Q is None, n_workers=ctx.runtime.n_jobs)


class ArrayBruteEngine:
    """The blocked brute force with whole-array operations of numpy or cupy.

    ``"numpy"`` is the readable reference; ``"cupy"`` runs on an NVIDIA GPU.
    """

    def __init__(self, module: str, extra: str | None) -> None:
        self.module = module
        self.extra = extra
        self.name = f"brute-{module}"

    def xp(self) -> Any:
        """The array module (raises ImportError naming the extra if it is missing)."""
        import importlib

        try:
            return importlib.import_module(self.module)
        except ImportError as exc:
            hint = f" (install it with: pip install 'sklearn_covertreex[{self.extra}]')" \
                if self.extra else ""
            raise ImportError(f"backend {self.module!r} is not available: {exc}{hint}") from exc

    def build(self, ctx: Context, model: ResidualModel, points: ResidualPoints,
              progress: Any = None) -> TreeArrays | None:
        self.xp()
        return None

    def extend(self, ctx: Context, index: ResidualIndex, new: ResidualPoints,
               progress: Any = None) -> TreeArrays | None:
        return None

    def knn(self, ctx: Context, index: ResidualIndex, Q: ResidualPoints, k: int):
        return knn_array(self.xp(), index.model, Q, index.points, k, "all")

    def knn_self(self, ctx: Context, index: ResidualIndex, k: int):
        return knn_array(self.xp(), index.model, index.points, index.points, k, "self")

    def vecchia(self, ctx: Context, index: ResidualIndex, k: int):
        return knn_array(self.xp(), index.model, index.points, index.points, k,
                         "predecessors")

    def radius(self, ctx: Context, index: ResidualIndex, Q: ResidualPoints | None, r: float):
        P = index.points
        return radius_array(self.xp(), index.model, P if Q is None else Q, P, r,
                            exclude_self=Q is None)


class TreeEngine:
    """The cover tree on packed residual rows (fast-path kernels only)."""

    name = "tree"

    def build(self, ctx: Context, model: ResidualModel, points: ResidualPoints,
              progress: Any = None) -> TreeArrays | None:
        rows = model.pack(points)
        return insert_points(ctx, empty_tree(rows.shape[1:], METRIC_NAME), rows,
                             progress=progress)

    def extend(self, ctx: Context, index: ResidualIndex, new: ResidualPoints,
               progress: Any = None) -> TreeArrays | None:
        return insert_points(ctx, index.tree, index.model.pack(new), progress=progress)

    def knn(self, ctx: Context, index: ResidualIndex, Q: ResidualPoints, k: int):
        d, i, _, _ = knn_query(ctx, index.tree, index.model.pack(Q), k)
        return d, i

    def knn_self(self, ctx: Context, index: ResidualIndex, k: int):
        n = index.points.n
        d, i = self.knn(ctx, index, index.points, k + 1)
        # drop each row itself; if ties pushed it out, drop the last column
        mask = i != np.arange(n)[:, None]
        no_self = np.all(mask, axis=1)
        mask[no_self, -1] = False
        return d[mask].reshape(n, k), i[mask].reshape(n, k)

    def vecchia(self, ctx: Context, index: ResidualIndex, k: int):
        d, i, _ = predecessor_knn(ctx, index.model.pack(index.points), k, METRIC_NAME)
        return d, i

    def radius(self, ctx: Context, index: ResidualIndex, Q: ResidualPoints | None, r: float):
        rows = index.model.pack(index.points if Q is None else Q)
        indptr, dist, ids = radius_query(ctx, index.tree, rows, np.full(rows.shape[0], r))
        if Q is None:
            row = np.repeat(np.arange(rows.shape[0]), np.diff(indptr))
            keep = ids != row
            indptr = np.zeros_like(indptr)
            np.cumsum(np.bincount(row[keep], minlength=rows.shape[0]), out=indptr[1:])
            dist, ids = dist[keep], ids[keep]
        return indptr, dist, ids


#: algorithm name -> engine
RESIDUAL_ENGINES: Registry[Any] = Registry("algorithm")
RESIDUAL_ENGINES.register("brute", BruteEngine())
RESIDUAL_ENGINES.register("brute-numpy", ArrayBruteEngine("numpy", None))
RESIDUAL_ENGINES.register("brute-cupy", ArrayBruteEngine("cupy", "cupy"))
RESIDUAL_ENGINES.register("tree", TreeEngine())

#: Choices accepted by ``algorithm``.
ALGORITHM_CHOICES = ("auto", "brute", "tree")

#: Choices accepted by ``backend``.
BACKEND_CHOICES = ("auto", "numba", "numpy", "cupy")

#: (algorithm, backend) -> engine name; the tree has compiled (numba) kernels only.
ENGINE_FOR: dict[tuple[str, str], str] = {
    **{(a, b): "brute" for a in ("auto", "brute") for b in ("auto", "numba")},
    **{(a, "numpy"): "brute-numpy" for a in ("auto", "brute")},
    **{(a, "cupy"): "brute-cupy" for a in ("auto", "brute")},
    ("tree", "auto"): "tree",
    ("tree", "numba"): "tree",
}


def check_choices(algorithm: Any, backend: Any) -> None:
    """Raise ``ValueError`` naming the valid choices for an unknown algorithm or backend."""
    for value, choices, what in ((algorithm, ALGORITHM_CHOICES, "algorithm"),
                                 (backend, BACKEND_CHOICES, "backend")):
        if value not in choices:
            raise ValueError(f"Unknown {what} {value!r}; valid choices are: "
                             + ", ".join(repr(c) for c in choices))


def resolve_algorithm(algorithm: str, model: ResidualModel,
                      backend: str = "auto") -> tuple[str, str]:
    """The engine for ``algorithm`` on ``backend``, and the reason, for the diagnostics.

    Raises
    ------
    ValueError
        For an unknown name, ``"tree"`` on a backend without tree kernels, or
        ``"tree"`` with a kernel without a fast path.
    """
    check_choices(algorithm, backend)
    name = ENGINE_FOR.get((algorithm, backend))
    if name is None:
        raise ValueError(
            f"algorithm={algorithm!r} has compiled kernels only: use backend='numba' or "
            f"'auto', or algorithm='brute' with backend={backend!r}"
        )
    if name == "tree":
        model.require_fast_path()
    if algorithm == "auto":
        return name, (
            "auto: blocked brute force; the tree's exact pruning skips too few pairs under "
            "this metric to pay for single-pair evaluations (doc/residual.md)"
        )
    return name, "requested"


def residual_context(backend: Any, runtime: Any) -> Context:
    """A Context for the residual-correlation metric."""
    return Context(backend, get_metric(METRIC_NAME), runtime)


def build_index(ctx: Context, model: ResidualModel, points: ResidualPoints, algorithm: str,
                progress: Any = None, backend: str = "auto") -> ResidualIndex:
    """Index ``points`` with the engine chosen by ``algorithm`` and ``backend``."""
    name, reason = resolve_algorithm(algorithm, model, backend)
    t0 = time.perf_counter()
    tree = RESIDUAL_ENGINES.get(name).build(ctx, model, points, progress)
    diagnostics = {
        "algorithm": name, "reason": reason, "n_inducing": model.n_inducing,
        "fast_kernel": model.fast is not None, "build_seconds": time.perf_counter() - t0,
        "tree": None if tree is None else tree.diagnostics,
    }
    return ResidualIndex(model, points, name, tree, diagnostics)


def extend_index(ctx: Context, index: ResidualIndex, new: ResidualPoints,
                 progress: Any = None) -> ResidualIndex:
    """A new index holding ``index``'s rows followed by ``new`` (ids continue)."""
    tree = RESIDUAL_ENGINES.get(index.algorithm).extend(ctx, index, new, progress)
    return replace(index, points=index.points.concat(new), tree=tree)


def engine(index: ResidualIndex) -> Any:
    """The engine answering ``index``'s queries."""
    return RESIDUAL_ENGINES.get(index.algorithm)
