"""Fit time and whole-process peak memory of one library, one thread, in a fresh process.

Issue 10 measures the large fit (n = 2M standard normal rows in 3-D) this
way: the process's peak resident set (``ru_maxrss``), imports and data
included, beside the fit's own rise. Run it once per library, each in its
own interpreter, so no library's memory hides another's::

    python benchmarks/bench_fit_peak.py covertree
    python benchmarks/bench_fit_peak.py kd_tree
    python benchmarks/bench_fit_peak.py ckdtree

Every library is warmed up on 5000 rows first (imports; numba loads or
compiles its kernels), so the fit timed is a warm one.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
from threadpoolctl import threadpool_limits


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _fitter(method: str):
    if method == "covertree":
        from sklearn_covertreex import CoverTree, Runtime

        runtime = Runtime(n_jobs=1)
        return lambda X: CoverTree(runtime).fit(X)
    if method == "kd_tree":
        from sklearn.neighbors import KDTree

        return KDTree
    from scipy.spatial import cKDTree

    return cKDTree


def main() -> None:
    """Parse the arguments, warm up, fit once and print the time and peaks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("method", choices=["covertree", "kd_tree", "ckdtree"])
    parser.add_argument("--n", type=int, default=2_000_000)
    parser.add_argument("--d", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    X = np.random.default_rng(args.seed).standard_normal((args.n, args.d))
    with threadpool_limits(1):
        fit = _fitter(args.method)
        fit(X[:5000])
        before = _rss_mib()
        t0 = time.perf_counter()
        fit(X)
        seconds = time.perf_counter() - t0
    print(f"{args.method}: n={args.n} d={args.d}, one thread: fit {seconds:.2f} s, "
          f"whole-process peak {_peak_mib():.0f} MiB (resident before the fit "
          f"{before:.0f} MiB, data {X.nbytes / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
