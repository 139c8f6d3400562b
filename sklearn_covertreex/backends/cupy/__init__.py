"""The cupy backend's tree kernels: CUDA kernels on an NVIDIA GPU (the Euclidean-row metrics).

The per-row work of every tree kernel runs on the GPU as a CUDA kernel
written with numba's CUDA target (``numba-cuda``, installed by the
``cupy`` extra): the k-NN, radius and traversal searches and the
conflict-graph searches a thread per query or point, the distances, radii
(atomic maxima) and Luby's rounds a thread per row or edge. They take the
arrays they are given on the GPU as they are (anything with
``__cuda_array_interface__``, a cupy array included) and copy host arrays
there; the orchestration (:mod:`sklearn_covertreex.algo`) runs on the host,
as for every backend, and the kernels return host arrays. The residual
brute force of this backend is cupy's (:mod:`sklearn_covertreex.engines`).

Why not one array-API implementation shared with jax: the searches are
per-thread loops with early exits (a best-first frontier per query), which
whole-array code can only express as padded lock-step steps (the jax
kernels' ``vmap`` + ``while_loop``); on CUDA a thread per query needs no
padding and no lock-step. The CPU-side pieces both share are shared: the
hashed cells and the level loop of the grid conflicts
(:mod:`..cell_hash`), the attachment CSR (:mod:`..numpy._arrays`).

Answers equal numba's bit for bit (distances included: see
:mod:`.distance`). CI runs these kernels on the CPU under numba's CUDA
simulator (``NUMBA_ENABLE_CUDASIM=1``, ``tests/gpu``); each kernel also
compiles to PTX for sm_90 (``benchmarks/cuda_ptx_check.py``). The contract
is :mod:`sklearn_covertreex.backends.contract`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from numba import cuda

if not cuda.is_available():
    raise ImportError("backend 'cupy' needs an NVIDIA GPU with a CUDA driver "
                      "(numba.cuda.is_available() is False)")

from .build import (  # noqa: E402  (after the device check)
    distances_to_point,
    find_parents,
    pair_distances,
    subtree_radii,
    traverse_sparse,
    update_radii,
)
from .conflict import conflict_cells, conflict_dense, conflict_tree, luby_mis  # noqa: E402
from .query import knn, radius_count, radius_fill  # noqa: E402

name = "cupy"


@contextmanager
def threads(n_threads: int) -> Iterator[None]:
    """Do nothing: the GPU runs a thread per row."""
    yield


__all__ = [
    "conflict_cells",
    "conflict_dense",
    "conflict_tree",
    "distances_to_point",
    "find_parents",
    "knn",
    "luby_mis",
    "name",
    "pair_distances",
    "radius_count",
    "radius_fill",
    "subtree_radii",
    "threads",
    "traverse_sparse",
    "update_radii",
]
