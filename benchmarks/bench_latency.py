"""Latency of a one-row ``kneighbors``: the estimators' per-call overhead.

Fits ``CoverTreeNeighbors`` and scikit-learn's ``NearestNeighbors``
(``kd_tree``, ``ball_tree``) on W1's points (n = 100k standard normal rows
in 3-D), then times ``kneighbors`` of one row, ``--calls`` times each, and
prints the median and the fastest call. Issue 10 asks for a one-row query
no slower than kd_tree's::

    python benchmarks/bench_latency.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.neighbors import NearestNeighbors

from sklearn_covertreex import CoverTreeNeighbors


def main() -> None:
    """Parse the arguments, fit every estimator and print its one-row latency."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=3)
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.n, args.d))
    rows = rng.standard_normal((args.calls, args.d))
    estimators = {
        "covertree": CoverTreeNeighbors(n_neighbors=args.k),
        "kd_tree": NearestNeighbors(n_neighbors=args.k, algorithm="kd_tree"),
        "ball_tree": NearestNeighbors(n_neighbors=args.k, algorithm="ball_tree"),
    }
    for name, estimator in estimators.items():
        estimator.fit(X)
        estimator.kneighbors(rows[:1])  # warm: compilation, first-call caches
        seconds = []
        for i in range(args.calls):
            t0 = time.perf_counter()
            estimator.kneighbors(rows[i : i + 1])
            seconds.append(time.perf_counter() - t0)
        print(f"{name:10s} one-row kneighbors: median {1e3 * np.median(seconds):.3f} ms, "
              f"fastest {1e3 * min(seconds):.3f} ms ({args.calls} calls)")


if __name__ == "__main__":
    main()
