"""``covertreex demo``: build and query on generated data, beside scikit-learn."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from ..telemetry import default_artifacts_dir, new_run_id
from .checks import check_memory, check_output_file, knn_bytes, require_backend
from .compare import COVERTREE, SKLEARN_METHODS, run_methods
from .errors import CliError
from .options import add_runtime_flags, positive_int, runtime_from_args
from .report import RunInfo, benchmark_records, compute_exactness, format_table, write_records


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``demo`` subcommand."""
    p = subparsers.add_parser(
        "demo", help="build a tree on standard normal data and compare with scikit-learn",
        description="Generate standard normal points and queries, build a cover tree, answer "
                    "k-NN queries, and print timings beside scikit-learn's kd_tree, ball_tree "
                    "and brute (same process, same data, same threads) with an exactness "
                    "check against brute.")
    p.add_argument("--n", type=positive_int, default=100_000, help="points (default: %(default)s)")
    p.add_argument("--d", type=positive_int, default=3, help="dimension (default: %(default)s)")
    p.add_argument("--queries", type=positive_int, default=10_000,
                   help="separate queries (default: %(default)s)")
    p.add_argument("--k", type=positive_int, default=16, help="neighbours (default: %(default)s)")
    add_runtime_flags(p)
    p.add_argument("--no-sklearn", action="store_true",
                   help="skip scikit-learn (no ratios, no exactness check)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--out", default=None, metavar="PATH",
                   help="JSONL records file (default: artifacts/benchmarks/demo.jsonl)")
    p.set_defaults(handler=run)


def demo_data(n: int, n_queries: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Standard normal points and queries of the demo.

    Parameters
    ----------
    n, n_queries, d, seed : int

    Returns
    -------
    X : ndarray of shape (n, d)
    Q : ndarray of shape (n_queries, d)
    """
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal((n_queries, d))


def run(args: argparse.Namespace) -> int:
    """Run the demo; return the exit status (1 if an answer was not exact)."""
    runtime = runtime_from_args(args, diagnostics=True)
    if args.k > args.n:
        raise CliError(f"--k ({args.k}) must not exceed --n ({args.n})")
    out = check_output_file(default_artifacts_dir() / "demo.jsonl" if args.out is None
                            else args.out, "--out")
    methods = (COVERTREE,) if args.no_sklearn else (COVERTREE, *SKLEARN_METHODS)
    check_memory(knn_bytes(args.n, args.d, args.queries, args.k, len(methods)),
                 f"demo with n={args.n}, d={args.d}, queries={args.queries}, k={args.k}")
    require_backend(runtime.backend)
    X, Q = demo_data(args.n, args.queries, args.d, args.seed)
    results = run_methods(X, Q, args.k, runtime, methods, progress=not args.no_progress,
                          log=lambda message: print(message, file=sys.stderr, flush=True))
    info = RunInfo(run_id=new_run_id(), workload="demo", description="standard normal",
                   n=args.n, d=args.d, k=args.k, n_queries=args.queries,
                   threads=int(runtime.n_jobs or 1), repeats=1, runtime=runtime)
    exact = compute_exactness(results)
    print(format_table(info, results, exact))
    path = write_records(out, benchmark_records(info, results, exact))
    print(f"records appended to {path}")
    if exact and not exact[COVERTREE]["exact"]:
        print("covertreex: error: the cover tree answer differs from brute force",
              file=sys.stderr)
        return 1
    return 0
