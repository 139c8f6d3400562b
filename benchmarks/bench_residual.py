"""Residual-correlation k-NN: ResidualCoverTreeNeighbors against a float64 brute force.

Runs ``covertreex bench residual`` (see
``sklearn_covertreex/cli/residual_bench.py`` for the workloads and the brute
force used as the bar); with no ``--preset`` it runs all three workloads::

    python benchmarks/bench_residual.py                       # gold, ls03, matern25
    python benchmarks/bench_residual.py --preset gold --n 8192
"""

from __future__ import annotations

import sys

from sklearn_covertreex.cli import main

if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--preset" not in argv:
        argv = ["--preset", "gold", "ls03", "matern25", *argv]
    sys.exit(main(["bench", "residual", *argv]))
