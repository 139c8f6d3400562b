"""``covertreex bench``: the Euclidean workloads W1-W4 against scikit-learn.

A compact in-package version of ``benchmarks/bench_euclidean.py`` (timings in
this process only; no peak-memory children).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np

from ..runtime import Runtime
from ..telemetry import default_artifacts_dir, new_run_id
from . import residual_bench, scaling
from .compare import COVERTREE, SKLEARN_METHODS, run_methods
from .errors import CliError
from .options import add_runtime_flags, positive_float, positive_int, runtime_from_args
from .report import RunInfo, benchmark_records, compute_exactness, format_table, write_records


@dataclasses.dataclass(frozen=True)
class Workload:
    """One benchmark workload.

    Parameters
    ----------
    name, description : str
    kind : {"gaussian", "subspace"}
    n, n_queries, d, k : int
    all_points : bool
        All-points k-NN on the indexed points (each excluding itself).
    data_seed : int
        Mixed into the seed; workloads sharing it share their points.
    intrinsic_dim : int
    noise : float
        Subspace dimension and noise level (``"subspace"`` only).
    """

    name: str
    description: str
    kind: str
    n: int
    n_queries: int
    d: int
    k: int
    all_points: bool = False
    data_seed: int = 0
    intrinsic_dim: int = 0
    noise: float = 0.0

    def scaled(self, scale: float) -> Workload:
        """Multiply ``n`` and ``n_queries`` by ``scale`` (at least k + 2 points, 1 query)."""
        return dataclasses.replace(self, n=max(int(round(self.n * scale)), self.k + 2),
                                   n_queries=max(int(round(self.n_queries * scale)), 1))


PRESETS: Mapping[str, Workload] = MappingProxyType({w.name: w for w in (
    Workload("W1", "standard normal, d=3", "gaussian", 100_000, 10_000, 3, 16, data_seed=1),
    Workload("W2", "standard normal, d=8", "gaussian", 100_000, 10_000, 8, 16, data_seed=2),
    Workload("W3", "4-dim linear subspace of d=16 + 1e-3 noise", "subspace", 200_000, 10_000,
             16, 16, data_seed=3, intrinsic_dim=4, noise=1e-3),
    Workload("W4", "all-points k-NN on W1's points (self excluded)", "gaussian", 100_000, 0, 3,
             16, all_points=True, data_seed=1),
)})


def make_data(workload: Workload, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Points and queries of a workload (queries are None for all-points workloads).

    The draws match ``benchmarks/bench_euclidean.py``, so both see the same data.

    Parameters
    ----------
    workload : Workload
    seed : int

    Returns
    -------
    X : ndarray of shape (n, d)
    Q : ndarray of shape (n_queries, d) or None
    """
    rng = np.random.default_rng([seed, workload.data_seed])
    if workload.kind == "gaussian":
        X = rng.standard_normal((workload.n, workload.d))
        Q = None if workload.all_points else rng.standard_normal((workload.n_queries,
                                                                  workload.d))
        return X, Q
    dim = min(max(workload.intrinsic_dim, 1), workload.d)
    basis, _ = np.linalg.qr(rng.standard_normal((workload.d, dim)))
    X = _subspace_points(rng, basis, workload.n, workload.noise)
    Q = None if workload.all_points else _subspace_points(rng, basis, workload.n_queries,
                                                          workload.noise)
    return X, Q


def _subspace_points(rng: np.random.Generator, basis: np.ndarray, n: int,
                     noise: float) -> np.ndarray:
    """``Z @ basis.T + noise * N(0, I)`` (same draws as ``benchmarks/bench_euclidean.py``)."""
    out = rng.standard_normal((n, basis.shape[0]))
    out *= noise
    out += rng.standard_normal((n, basis.shape[1])) @ basis.T
    return out


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench`` with its ``euclidean``, ``residual`` and ``scaling`` subcommands."""
    p = subparsers.add_parser("bench", help="benchmarks",
                              description="Benchmarks against scikit-learn.")
    sub = p.add_subparsers(dest="suite", metavar="SUITE", required=True)
    e = sub.add_parser("euclidean", help="W1-W4 against kd_tree, ball_tree and brute",
                       description="Time the cover tree beside scikit-learn's kd_tree, "
                                   "ball_tree and brute on a preset workload.")
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
    e.add_argument("--no-progress", action="store_true", help="no progress bars")
    e.add_argument("--out", default=None, metavar="PATH",
                   help="JSONL records file (default: artifacts/benchmarks/bench_euclidean.jsonl)")
    e.set_defaults(handler=run_euclidean)
    scaling.add_parser(sub)
    residual_bench.add_parser(sub)


def workload_from_args(args: argparse.Namespace, preset: str) -> Workload:
    """The preset, scaled by ``--scale``, with explicit overrides applied."""
    w = PRESETS[preset].scaled(args.scale)
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
    return w


def run_euclidean(args: argparse.Namespace) -> int:
    """Run the chosen Euclidean workloads; return the exit status (1 if one was not exact)."""
    runtime = runtime_from_args(args, diagnostics=True)
    workloads = [workload_from_args(args, preset) for preset in args.preset]
    out = default_artifacts_dir() / "bench_euclidean.jsonl" if args.out is None else args.out
    run_id = new_run_id()
    status = 0
    for w in workloads:
        status = max(status, _run_workload(args, runtime, w, out, run_id))
    return status


def _run_workload(args: argparse.Namespace, runtime: Runtime, w: Workload, out: str | Path,
                  run_id: str) -> int:
    X, Q = make_data(w, args.seed)
    results = run_methods(X, Q, w.k, runtime, (COVERTREE, *SKLEARN_METHODS),
                          repeats=args.repeats, progress=not args.no_progress,
                          log=lambda message: print(f"[{w.name}] {message}", file=sys.stderr,
                                                    flush=True))
    info = RunInfo(run_id=run_id, workload=w.name, description=w.description, n=w.n,
                   d=w.d, k=w.k, n_queries=w.n if w.all_points else w.n_queries,
                   threads=int(runtime.n_jobs or 1), repeats=args.repeats, runtime=runtime)
    exact = compute_exactness(results)
    print(format_table(info, results, exact))
    path = write_records(out, benchmark_records(info, results, exact))
    print(f"records appended to {path}\n")
    if not exact[COVERTREE]["exact"]:
        print(f"covertreex: error: the cover tree answer differs from brute force on {w.name}",
              file=sys.stderr)
        return 1
    return 0
