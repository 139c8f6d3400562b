"""Compile every CUDA kernel of the cupy backend to PTX, on a machine without a GPU.

Needs numba's CUDA target with NVVM (``pip install 'numba-cuda[cu12]'``);
no GPU and no driver. Each backend kernel is called on small host arrays
with the launches intercepted: every kernel is compiled with the argument
types of its launch, for compute capability 9.0 (H200) by default, instead
of being run. Reports each kernel's PTX size and checks that the distance
kernel has no fused multiply-add (see ``backends/cupy/distance.py``).

    python benchmarks/cuda_ptx_check.py [--cc 9.0]

Exit status 0 when every kernel compiled.
"""

from __future__ import annotations

import argparse
import sys
import time
import types

import numba
import numpy as np
from numba import cuda


def main(argv: list[str] | None = None) -> int:
    """Compile the kernels; print one line per kernel; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cc", default="9.0", help="compute capability (default 9.0)")
    cc = tuple(int(v) for v in parser.parse_args(argv).cc.split("."))

    # No device: device functions ask for the current device's compute capability,
    # and the backend refuses to import; both are answered here.
    import numba.cuda.dispatcher as dispatcher

    dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=cc)
    cuda.is_available = lambda: True
    cuda.device_array = lambda shape, dtype=np.float64: np.empty(shape, dtype)
    from sklearn_covertreex import CoverTree
    from sklearn_covertreex.backends.cupy import _device, build, conflict, query
    from sklearn_covertreex.metrics import get_metric

    compiled: dict[str, tuple[int, float, str]] = {}

    def compile_launch(kernel, n, *args):
        name = kernel.py_func.__name__
        if name not in compiled:
            t0 = time.perf_counter()
            ptx, _ = cuda.compile_ptx(kernel.py_func, tuple(numba.typeof(a) for a in args), cc=cc)
            compiled[name] = (len(ptx), time.perf_counter() - t0, ptx)

    for module in (_device, build, conflict, query):
        for attr, fake in (("launch", compile_launch), ("to_host", np.asarray),
                           ("to_device", lambda a, dtype=None: np.ascontiguousarray(a, dtype)),
                           ("filled", lambda shape, value, dtype: np.full(shape, value, dtype))):
            if hasattr(module, attr):
                setattr(module, attr, fake)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    tree = CoverTree().fit(X)
    a = tree.arrays
    m = get_metric("euclidean").kernel((3.0,))
    targs = (m, *a.query_arrays(), X[:8])
    query.knn(*targs, 4)
    query.radius_count(*targs, np.ones(8))
    query.radius_fill(*targs, np.ones(8), np.arange(9, dtype=np.int64))
    build.traverse_sparse(m, a.points, a.level, a.radius, a.parent_dist, a.child_ptr, a.children,
                          a.root, X[:8])
    build.find_parents(m, a.points, a.level, a.child_ptr, a.children, a.root, X[:8],
                       np.zeros(8, np.int64), np.ones(a.n_nodes, bool))
    build.subtree_radii(m, a.points, a.parent)
    build.pair_distances(m, X, np.arange(8), X, np.arange(8))
    lev = rng.integers(-2, 1, size=64)
    conflict.conflict_dense(m, X, lev)
    conflict.conflict_cells(m, X, lev, X[:, :2], 0.0)
    conflict.conflict_tree(m, a.points, a.parent, a.child_ptr, a.children, a.root, X[:8],
                           np.zeros(8, np.int64), np.zeros(8, np.int64))
    src, state = np.zeros(4, np.int64), np.zeros(4, np.int8)
    for kernel, args in ((conflict._beaten_kernel, (src, src, np.zeros(4), state, src.copy())),
                         (conflict._join_kernel, (state, src, np.zeros(4, bool))),
                         (conflict._drop_kernel, (src, src, state, np.zeros(4, bool)))):
        compile_launch(kernel, 4, *args)

    for name, (size, seconds, _) in sorted(compiled.items()):
        print(f"{name:22s} {size:8d} bytes of PTX  {seconds:6.2f} s")
    fused = "fma.rn.f64" in compiled["_pair_kernel"][2]
    kernels = {name for module in (build, conflict, query) for name in vars(module)
               if name.endswith("_kernel")}
    missed = sorted(kernels - set(compiled))
    print(f"{len(compiled)} kernels compiled for sm_{cc[0]}{cc[1]} (not reached: "
          f"{', '.join(missed) or 'none'}); distance kernel fuses multiply-adds: {fused}")
    return 1 if fused or missed else 0


if __name__ == "__main__":
    sys.exit(main())
