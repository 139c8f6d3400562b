"""Backends behind one registry; each entry declares what it provides.

A backend may provide **tree kernels** (a package implementing
:class:`~.contract.TreeKernels` for some metrics) and a **residual brute
force** (an engine of :mod:`sklearn_covertreex.engines`). ``numpy`` is the
readable reference, ``numba`` the default on CPU, ``jax`` runs jitted
tree kernels and the residual brute force on any jax device (CPU, GPU,
TPU), ``cupy`` runs CUDA tree kernels and the residual brute force on
NVIDIA GPUs. Adding a backend is one package (or engine) plus one registry
line here; callers ask the registry, never test
names.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from .._registry import Registry
from ..metrics import METRICS, USER_PREFIX
from ..metrics.euclidean import EuclideanRows
from .contract import KERNELS, TreeKernels


@dataclass(frozen=True)
class Backend:
    """What a backend provides.

    Attributes
    ----------
    name : str
        Registry name.
    tree_kernels : str or None
        Import path of its tree-kernel package (None: no tree kernels).
    tree_metrics : tuple of str
        Metrics its tree kernels implement.
    residual_brute : str or None
        Name of its residual-correlation brute-force engine.
    extra : str or None
        The package extra that installs its optional dependency.
    user_metrics : bool
        Whether its tree kernels compile metrics of the user's own
        (:mod:`sklearn_covertreex.metrics.user`).
    """

    name: str
    tree_kernels: str | None = None
    tree_metrics: tuple[str, ...] = ()
    residual_brute: str | None = None
    extra: str | None = None
    user_metrics: bool = False

    def provides_tree(self, metric: str) -> bool:
        """Whether its tree kernels implement ``metric``."""
        if self.tree_kernels is None:
            return False
        return metric in self.tree_metrics or (self.user_metrics
                                               and metric.startswith(USER_PREFIX))


#: name -> Backend; "auto" stands for the first of AUTO_ORDER that imports.
BACKENDS: Registry[Backend] = Registry("backend")
BACKENDS.register("auto", Backend("auto"))
BACKENDS.register("numba", Backend(  # compiled distances of every registered metric
    "numba", "sklearn_covertreex.backends.numba", METRICS.names(), residual_brute="brute",
    user_metrics=True))
BACKENDS.register("numpy", Backend(  # the Euclidean kernels: metrics that store Euclidean rows
    "numpy", "sklearn_covertreex.backends.numpy",
    tuple(n for n in METRICS.names() if METRICS.get(n).kernel_class is EuclideanRows),
    residual_brute="brute-numpy"))
BACKENDS.register("jax", Backend(  # jitted jax kernels (CPU, GPU, TPU): the Euclidean-row metrics
    "jax", "sklearn_covertreex.backends.jax",
    tuple(n for n in METRICS.names() if METRICS.get(n).kernel_class is EuclideanRows),
    residual_brute="brute-jax", extra="jax"))
BACKENDS.register("cupy", Backend(  # CUDA kernels on an NVIDIA GPU: the Euclidean-row metrics
    "cupy", "sklearn_covertreex.backends.cupy",
    tuple(n for n in METRICS.names() if METRICS.get(n).kernel_class is EuclideanRows),
    residual_brute="brute-cupy", extra="cupy"))

#: What "auto" means, in order of preference.
AUTO_ORDER = ("numba", "numpy")


def import_extra(module: str, extra: str | None, what: str) -> ModuleType:
    """Import ``module``; an ``ImportError`` names ``what`` needs it and the extra to install.

    Parameters
    ----------
    module : str
        Module to import.
    extra : str or None
        The package extra that provides it (``pip install 'sklearn_covertreex[extra]'``).
    what : str
        What needs it, for the message (e.g. ``"backend 'cupy'"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        hint = f" (install it with: pip install 'sklearn_covertreex[{extra}]')" if extra else ""
        raise ImportError(f"{what} is not available: {exc}{hint}") from exc


def resolve_backend(name: str) -> Backend:
    """The registry entry of ``name``, with ``"auto"`` replaced by the backend it means."""
    BACKENDS.check(name)
    if name != "auto":
        return BACKENDS.get(name)
    for candidate in AUTO_ORDER:
        entry = BACKENDS.get(candidate)
        try:
            importlib.import_module(entry.tree_kernels or "")
        except ImportError:
            continue
        return entry
    raise ImportError("no backend with tree kernels can be imported")  # numpy always can


def require_tree(name: str, metric: str) -> Backend:
    """The backend ``name`` means; ``ValueError`` unless it has tree kernels for ``metric``."""
    entry = resolve_backend(name)
    if not entry.provides_tree(metric):
        able = [b for b in BACKENDS.names() if BACKENDS.get(b).provides_tree(metric)]
        raise ValueError(
            f"backend {name!r} has no tree kernels for the {metric!r} metric; "
            f"backends with tree kernels for it: {', '.join(map(repr, ['auto', *able]))}"
        )
    return entry


def get_backend(name: str, metric: str = "euclidean") -> TreeKernels:
    """Import and return the tree-kernel package of backend ``name`` for ``metric``.

    ``"auto"`` returns numba when it can be imported, else numpy.

    Raises
    ------
    ValueError
        If ``name`` is not a registered backend or has no tree kernels for ``metric``.
    ImportError
        If the backend's optional dependency is missing (names the extra).
    """
    entry = require_tree(name, metric)
    return import_extra(entry.tree_kernels, entry.extra, f"backend {entry.name!r}")  # type: ignore[return-value]


__all__ = ["AUTO_ORDER", "BACKENDS", "KERNELS", "Backend", "get_backend", "import_extra",
           "require_tree", "resolve_backend"]
