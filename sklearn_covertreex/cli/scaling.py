"""``covertreex bench scaling``: build and query time against n, beside kd_tree."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..telemetry import default_artifacts_dir, new_run_id
from .checks import (
    check_memory,
    check_output_file,
    knn_bytes,
    require_backend,
    require_module,
)
from .compare import COVERTREE, exactness, run_methods
from .errors import CliError
from .options import add_runtime_flags, positive_int, runtime_from_args
from .report import RunInfo, benchmark_records, write_records

DEFAULT_SIZES = "10000,30000,100000,300000,1000000"
BASELINE = "kd_tree"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench scaling``."""
    p = subparsers.add_parser(
        "scaling", help="build and query time against n, beside kd_tree (log-log PNG)",
        description="Sweep n (standard normal points), time the cover tree and scikit-learn's "
                    "kd_tree on the same data and threads, check exactness against kd_tree, "
                    "and draw build and query time against n on log-log axes.")
    p.add_argument("--sizes", default=DEFAULT_SIZES,
                   help="comma-separated values of n (default: %(default)s)")
    p.add_argument("--d", type=positive_int, default=3, help="dimension (default: %(default)s)")
    p.add_argument("--queries", type=positive_int, default=10_000,
                   help="separate queries per size (default: %(default)s)")
    p.add_argument("--k", type=positive_int, default=16, help="neighbours (default: %(default)s)")
    add_runtime_flags(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--out", default=None, metavar="PATH",
                   help="JSONL records file (default: artifacts/benchmarks/bench_scaling.jsonl)")
    p.add_argument("--plot", default=None, metavar="PNG",
                   help="figure path (default: artifacts/benchmarks/scaling.png)")
    p.add_argument("--no-plot", action="store_true", help="skip the figure")
    p.set_defaults(handler=run_scaling)


def parse_sizes(text: str, k: int) -> list[int]:
    """The sweep's sizes, each above k."""
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise CliError(f"--sizes must be comma-separated integers, got {text!r}") from None
    if not sizes or sizes[0] <= k:
        raise CliError(f"--sizes must be integers larger than k={k}, got {text!r}")
    return sizes


def run_scaling(args: argparse.Namespace) -> int:
    """Run the sweep; return the exit status (1 if an answer was not exact)."""
    runtime = runtime_from_args(args, diagnostics=True)
    sizes = parse_sizes(args.sizes, args.k)
    check_memory(knn_bytes(sizes[-1], args.d, args.queries, args.k, 2),
                 f"scaling with n={sizes[-1]}, d={args.d}, queries={args.queries}, k={args.k}")
    out = check_output_file(default_artifacts_dir() / "bench_scaling.jsonl" if args.out is None
                            else args.out, "--out")
    plot = None if args.no_plot else check_output_file(
        default_artifacts_dir() / "scaling.png" if args.plot is None else args.plot, "--plot")
    if plot is not None:
        require_module("matplotlib", "bench", "the figure", " (or pass --no-plot)")
    require_backend(runtime.backend)
    run_id = new_run_id()
    threads = int(runtime.n_jobs or 1)
    rows, records, all_exact = [], [], True
    for n in sizes:
        rng = np.random.default_rng([args.seed, n])
        X = rng.standard_normal((n, args.d))
        Q = rng.standard_normal((args.queries, args.d))
        results = run_methods(X, Q, args.k, runtime, (COVERTREE, BASELINE),
                              progress=not args.no_progress,
                              log=lambda m, n=n: print(f"[n={n}] {m}", file=sys.stderr,
                                                       flush=True))
        check = exactness(results[COVERTREE], results[BASELINE])
        all_exact &= bool(check["exact"])
        info = RunInfo(run_id=run_id, workload=f"scaling-n{n}",
                       description=f"standard normal, d={args.d}", n=n, d=args.d, k=args.k,
                       n_queries=args.queries, threads=threads, repeats=1, runtime=runtime)
        records += benchmark_records(info, results, {COVERTREE: check})
        ct, kd = results[COVERTREE], results[BASELINE]
        rows.append((n, ct.build_s, ct.query_s, kd.build_s, kd.query_s, check["exact"]))
    print(f"scaling: d={args.d} queries={args.queries} k={args.k} threads={threads}")
    print(f"{'n':>9}  {'ct build s':>10}  {'ct query s':>10}  {'kd build s':>10}  "
          f"{'kd query s':>10}  exact vs kd_tree")
    for n, cb, cq, kb, kq, ok in rows:
        print(f"{n:>9}  {cb:>10.3f}  {cq:>10.3f}  {kb:>10.3f}  {kq:>10.3f}  "
              f"{'yes' if ok else 'NO'}")
    path = write_records(out, records)
    print(f"records appended to {path}")
    if plot is not None:
        print(f"figure written to {draw(rows, plot, args.d, args.k, args.queries)}")
    if not all_exact:
        print("covertreex: error: the cover tree answer differs from kd_tree's", file=sys.stderr)
        return 1
    return 0


def draw(rows: list[tuple], path: Path, d: int, k: int, queries: int) -> Path:
    """Log-log figure of build and query time against n for both methods."""
    require_module("matplotlib", "bench", "the figure", " (or pass --no-plot)")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    n = np.array([r[0] for r in rows])
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.loglog(n, [r[1] for r in rows], "o-", color="C0", label="cover tree build")
    ax.loglog(n, [r[2] for r in rows], "o--", color="C0", label="cover tree query")
    ax.loglog(n, [r[3] for r in rows], "s-", color="C1", label="kd_tree build")
    ax.loglog(n, [r[4] for r in rows], "s--", color="C1", label="kd_tree query")
    ax.set_xlabel("n (indexed points)")
    ax.set_ylabel("seconds")
    ax.set_title(f"standard normal, d={d}, {queries} queries, k={k}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
