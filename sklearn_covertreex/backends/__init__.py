"""Kernel backends behind one registry.

A backend is a module exposing the kernel functions listed in
:data:`KERNELS`, all with the same signatures and results. ``numpy`` is the
readable reference, ``numba`` the default on CPU. A GPU backend (jax, cupy)
is added as one module plus one registry line here.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .._registry import Registry

#: Kernel functions every backend module provides.
KERNELS = (
    "traverse_sparse",
    "find_parents",
    "pair_distances",
    "distances_to_point",
    "conflict_dense",
    "conflict_tree",
    "conflict_cells",
    "luby_mis",
    "subtree_radii",
    "update_radii",
    "knn",
    "radius_count",
    "radius_fill",
)

#: name -> (module path, extra to install if it is missing)
BACKENDS: Registry[tuple[str, str | None]] = Registry("backend")
BACKENDS.register("auto", ("", None))
BACKENDS.register("numpy", ("sklearn_covertreex.backends.numpy_backend", None))
BACKENDS.register("numba", ("sklearn_covertreex.backends.numba_backend", "numba"))


def get_backend(name: str) -> ModuleType:
    """Import and return the backend module registered under ``name``.

    ``"auto"`` returns numba when it can be imported, else numpy.

    Raises
    ------
    ValueError
        If ``name`` is not a registered backend.
    ImportError
        If the backend's optional dependency is missing (names the extra).
    """
    BACKENDS.check(name)
    if name == "auto":
        try:
            return get_backend("numba")
        except ImportError:
            return get_backend("numpy")
    module_path, extra = BACKENDS.get(name)
    try:
        return importlib.import_module(module_path)
    except ImportError as exc:
        hint = f" (install it with: pip install 'sklearn_covertreex[{extra}]')" if extra else ""
        raise ImportError(f"backend {name!r} is not available: {exc}{hint}") from exc
