"""``covertreex bench``: the Euclidean workloads (W1-W4, H3) against scikit-learn and cKDTree.

``benchmarks/bench_euclidean.py`` is a thin shim over ``bench euclidean``.
Timings are taken in this process, every method side by side on the same
data (:mod:`.compare`); ``--memory`` adds each method's peak memory of build
+ query, measured in a fresh child process (:mod:`.memory`). Exactness is the
one rule of :mod:`.compare`, against scikit-learn's brute force.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from ..runtime import Runtime
from ..telemetry import default_artifacts_dir, new_run_id
from . import dask_bench, interop, metrics_bench, residual_bench, scaling
from .checks import check_memory, check_output_file, knn_bytes, require_backend
from .compare import BASELINE_METHODS, COVERTREE, run_methods
from .errors import CliError
from .memory import measure_memory
from .options import add_runtime_flags, positive_float, positive_int, runtime_from_args
from .report import RunInfo, benchmark_records, compute_exactness, format_table, write_records
from .workloads import PRESETS, Workload, make_data

#: Methods of ``bench euclidean``, in table order.
METHODS: tuple[str, ...] = (COVERTREE, *BASELINE_METHODS)

__all__ = ["METHODS", "PRESETS", "Workload", "add_parser", "make_data", "run_euclidean",
           "workload_from_args"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench`` with its ``euclidean``, ``residual``, ``scaling`` and ``dask`` suites."""
    p = subparsers.add_parser("bench", help="benchmarks",
                              description="Benchmarks against scikit-learn.")
    sub = p.add_subparsers(dest="suite", metavar="SUITE", required=True)
    e = sub.add_parser("euclidean", help="W1-W4, H3 against kd_tree, ball_tree, brute, cKDTree",
                       description="Time the cover tree beside scikit-learn's kd_tree, "
                                   "ball_tree and brute and scipy's cKDTree (workers = the "
                                   "thread count) on a preset workload.")
    e.add_argument("--preset", type=str.upper, nargs="+", default=["W1"],
                   choices=sorted(PRESETS),
                   help="one or more workloads, run one after the other (default: W1)")
    e.add_argument("--n", type=positive_int, default=None, help="override the points")
    e.add_argument("--d", type=positive_int, default=None, help="override the dimension")
    e.add_argument("--k", type=positive_int, default=None, help="override k")
    e.add_argument("--queries", type=positive_int, default=None, help="override the queries")
    e.add_argument("--repeats", type=positive_int, default=1,
                   help="timed repetitions, minimum reported (default: %(default)s)")
    e.add_argument("--scale", type=positive_float, default=1.0,
                   help="multiplier of the preset's n and queries (default: %(default)s)")
    add_runtime_flags(e)
    e.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS,
                   metavar="METHOD",
                   help="methods to run: " + ", ".join(METHODS) + " (default: all; without "
                        "brute the exactness column is left out)")
    e.add_argument("--memory", action="store_true",
                   help="also measure each method's peak memory of build + query, in a fresh "
                        "child process per method (before the timings)")
    e.add_argument("--no-progress", action="store_true", help="no progress bars")
    e.add_argument("--out", default=None, metavar="PATH",
                   help="JSONL records file (default: artifacts/benchmarks/bench_euclidean.jsonl)")
    e.set_defaults(handler=run_euclidean)
    scaling.add_parser(sub)
    residual_bench.add_parser(sub)
    interop.add_parser(sub)
    metrics_bench.add_parser(sub)
    dask_bench.add_parser(sub)


def workload_from_args(args: argparse.Namespace, preset: str) -> Workload:
    """The preset, scaled by ``--scale``, with explicit overrides applied.

    Parameters
    ----------
    args : argparse.Namespace
    preset : str

    Returns
    -------
    Workload

    Raises
    ------
    CliError
        If the sizes are not finite, ``k`` is too large, or the run needs
        more memory than the machine has.
    """
    try:
        w = PRESETS[preset].scaled(args.scale)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    changes = {key: getattr(args, attr) for key, attr in
               (("n", "n"), ("d", "d"), ("k", "k"), ("n_queries", "queries"))
               if getattr(args, attr) is not None}
    w = dataclasses.replace(w, **changes)
    if w.intrinsic_dim > w.d:
        w = dataclasses.replace(w, intrinsic_dim=w.d)
    limit = w.n - 1 if w.all_points else w.n
    if w.k > limit:
        raise CliError(f"k={w.k} is too large for n={w.n} points"
                       + (" (all-points k-NN excludes each point itself)" if w.all_points
                          else ""))
    check_memory(knn_bytes(w.n, w.d, 0 if w.all_points else w.n_queries, w.k, len(METHODS)),
                 f"workload {w.name} (n={w.n}, d={w.d}, queries={w.n_queries}, k={w.k})")
    return w


def run_euclidean(args: argparse.Namespace) -> int:
    """Run the chosen Euclidean workloads; return the exit status (1 if one was not exact)."""
    runtime = runtime_from_args(args, diagnostics=True)
    workloads = [workload_from_args(args, preset) for preset in args.preset]
    out = check_output_file(default_artifacts_dir() / "bench_euclidean.jsonl" if args.out is None
                            else args.out, "--out")
    require_backend(runtime.backend)
    # memory children first: the parent has generated no data yet (see .memory)
    methods = tuple(m for m in METHODS if m in getattr(args, "methods", METHODS))
    memory = (measure_memory(workloads, methods, args.seed, runtime, log=_log(""))
              if args.memory else None)
    run_id = new_run_id()
    status = 0
    for w in workloads:
        peaks = None if memory is None else {m: memory[w.name, m] for m in methods}
        status = max(status, _run_workload(args, runtime, w, out, run_id, peaks, methods))
    return status


def _log(prefix: str) -> Callable[[str], None]:
    """A callback printing ``prefix + message`` on stderr."""
    return lambda message: print(f"{prefix}{message}", file=sys.stderr, flush=True)


def _run_workload(args: argparse.Namespace, runtime: Runtime, w: Workload, out: str | Path,
                  run_id: str, memory: Mapping[str, float] | None,
                  methods: tuple[str, ...] = METHODS) -> int:
    X, Q = make_data(w, args.seed)
    results = run_methods(X, Q, w.k, runtime, methods, repeats=args.repeats,
                          progress=not args.no_progress, log=_log(f"[{w.name}] "))
    info = RunInfo(run_id=run_id, workload=w.name, description=w.description, n=w.n,
                   d=w.d, k=w.k, n_queries=w.n if w.all_points else w.n_queries,
                   threads=int(runtime.n_jobs or 1), repeats=args.repeats, runtime=runtime)
    exact = compute_exactness(results)
    print(format_table(info, results, exact, memory))
    path = write_records(out, benchmark_records(info, results, exact, memory))
    print(f"records appended to {path}\n")
    if COVERTREE in exact and not exact[COVERTREE]["exact"]:
        print(f"covertreex: error: the cover tree answer differs from brute force on {w.name}",
              file=sys.stderr)
        return 1
    return 0
