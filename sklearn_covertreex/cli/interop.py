"""``covertreex bench interop``: how the package behaves as a guest in the user's process.

Three questions, each answered in fresh child interpreters (``python -c``)
so that one case's threads, pools and caches cannot touch another's:

* **Other OpenMP libraries**: GPBoost and LightGBM (when installed) and a
  scikit-learn OpenMP estimator, timed alone and right after one
  ``CoverTreeNeighbors(n_jobs=threads).fit(X).kneighbors()`` ran in the same
  process. A ratio near 1 means our kernels left their thread pools alone.
* **Contention**: the W1 build and queries (and kd_tree's, for reference)
  alone and beside a competing CPU-bound job of ``threads`` busy processes.
  A fair share on a machine of ``threads`` cores is about 2x.
* **Cold start**: ``import sklearn_covertreex`` beside ``import
  sklearn.neighbors``, and the first ``fit`` + ``kneighbors`` of 100 points
  with an empty numba cache (the child's ``NUMBA_CACHE_DIR`` is a new
  temporary directory; this process's environment is not changed).

Timings, not tests: the machine's load is printed with the table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..telemetry import default_artifacts_dir, new_run_id
from ..telemetry.records import base_record, machine_info
from .checks import check_output_file
from .errors import CliError
from .options import positive_int, resolve_threads
from .report import write_records

#: What a child runs before the timed case when the case is "after covertreex".
_OURS_FIRST = """
from sklearn_covertreex import CoverTreeNeighbors
_X = np.random.default_rng(1).normal(size=(20000, 5))
CoverTreeNeighbors(n_jobs={threads}).fit(_X).kneighbors()
"""

#: Timed workload of each third-party library: sets ``seconds``.
_LIBRARIES: Mapping[str, tuple[str, str]] = {
    "gpboost": ("gpboost", """
import gpboost as gpb
rng = np.random.default_rng(0)
X = rng.uniform(size=(1000, 5)); y = rng.normal(size=1000)
t = time.perf_counter()
model = gpb.GPModel(gp_coords=X, cov_function="matern", cov_fct_shape=1.5,
                    gp_approx="vif_correlation_based", num_neighbors=30, num_ind_points=200,
                    vecchia_ordering="none", num_parallel_threads={threads}, seed=0)
model.neg_log_likelihood(cov_pars=np.array([0.1, 1.0, 0.2]), y=y)
seconds = time.perf_counter() - t
"""),
    "lightgbm": ("lightgbm", """
import lightgbm as lgb
rng = np.random.default_rng(0)
X = rng.normal(size=(50000, 10)); y = X @ rng.normal(size=10) + rng.normal(size=50000)
t = time.perf_counter()
lgb.train({{"objective": "regression", "num_threads": {threads}, "verbose": -1}},
          lgb.Dataset(X, y), num_boost_round=100)
seconds = time.perf_counter() - t
"""),
    "sklearn HistGradientBoosting": ("sklearn", """
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits
rng = np.random.default_rng(0)
X = rng.normal(size=(50000, 10)); y = X @ rng.normal(size=10) + rng.normal(size=50000)
with threadpool_limits({threads}, user_api="openmp"):
    t = time.perf_counter()
    HistGradientBoostingRegressor(max_iter=100, early_stopping=False).fit(X, y)
    seconds = time.perf_counter() - t
"""),
}

#: W1 build and queries of the cover tree and of kd_tree: sets ``results``.
_W1 = """
from sklearn.neighbors import NearestNeighbors
from sklearn_covertreex import CoverTreeNeighbors
rng = np.random.default_rng(0)
X = rng.normal(size=({n}, 3)); Q = rng.normal(size=({queries}, 3))
CoverTreeNeighbors(n_jobs={threads}).fit(X[:2000]).kneighbors(Q[:64], 16)
methods = {{"covertreex": lambda: CoverTreeNeighbors(n_jobs={threads}),
           "kd_tree": lambda: NearestNeighbors(algorithm="kd_tree", n_jobs={threads})}}
results = {{}}
for name, make in methods.items():
    build, query = [], []
    for _ in range({repeats}):
        t = time.perf_counter(); est = make().fit(X); build.append(time.perf_counter() - t)
        t = time.perf_counter(); est.kneighbors(Q, 16); query.append(time.perf_counter() - t)
    results[name] = (min(build), min(query))
"""

_COLD = """
t = time.perf_counter()
import sklearn_covertreex
import_seconds = time.perf_counter() - t
X = np.random.default_rng(0).normal(size=(100, 3))
t = time.perf_counter()
sklearn_covertreex.CoverTreeNeighbors().fit(X).kneighbors()
first_call_seconds = time.perf_counter() - t
"""

_IMPORT_SKLEARN = """
t = time.perf_counter()
import sklearn.neighbors
import_seconds = time.perf_counter() - t
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench interop``."""
    p = subparsers.add_parser(
        "interop", help="other OpenMP libraries after ours, contention, cold start",
        description="Time GPBoost, LightGBM (if installed) and a scikit-learn OpenMP estimator "
                    "alone and after our estimator in the same process; our W1 build and "
                    "queries alone and beside a competing CPU-bound job; and the cold start "
                    "(import, first fit + query with an empty numba cache). Each case runs in "
                    "a fresh child interpreter.")
    p.add_argument("--n-jobs", type=int, default=None,
                   help="threads of every library and of the competing job (default: all cores)")
    p.add_argument("--n", type=positive_int, default=100_000,
                   help="points of the contention workload (default: W1's %(default)s)")
    p.add_argument("--queries", type=positive_int, default=10_000,
                   help="queries of the contention workload (default: %(default)s)")
    p.add_argument("--repeats", type=positive_int, default=3,
                   help="timed repetitions, minimum reported (default: %(default)s)")
    p.add_argument("--skip", default="", metavar="PARTS",
                   help="comma-separated parts to skip: libraries, contention, cold")
    p.add_argument("--out", default=None, metavar="PATH",
                   help="JSONL records file (default: artifacts/benchmarks/bench_interop.jsonl)")
    p.set_defaults(handler=run_interop)


def run_child(code: str, outputs: tuple[str, ...], env: Mapping[str, str] | None = None,
              timeout: float = 1800.0) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; return the named variables it set.

    Raises
    ------
    CliError
        If the child fails or times out (its last line of stderr is shown).
    """
    script = ("import json, time\nimport numpy as np\n" + code
              + f"\nprint(json.dumps({{name: globals()[name] for name in {outputs!r}}}))\n")
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=timeout, env=None if env is None else dict(env))
    except subprocess.TimeoutExpired:
        raise CliError(f"a benchmark child ran past {timeout:.0f} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise CliError(f"a benchmark child failed: {last}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _installed(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is not None


class CompetingJob:
    """``n`` busy child processes (a CPU-bound job of ``n`` threads) while in the block."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> CompetingJob:
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True:\n    pass"])
                      for _ in range(self.n)]
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.kill()
        for proc in self.procs:
            proc.wait()


def libraries_rows(threads: int, repeats: int) -> list[dict[str, Any]]:
    """Each installed library's workload alone and after ours (fastest of ``repeats``)."""
    rows = []
    for name, (module, code) in _LIBRARIES.items():
        if not _installed(module):
            rows.append({"case": "library", "name": name, "condition": "not installed"})
            continue
        body = code.format(threads=threads)
        alone, after = float("inf"), float("inf")
        for _ in range(repeats):  # alternated, so a change of load hits both alike
            alone = min(alone, run_child(body, ("seconds",))["seconds"])
            after = min(after, run_child(_OURS_FIRST.format(threads=threads) + body,
                                         ("seconds",))["seconds"])
        rows.append({"case": "library", "name": name, "condition": "alone", "seconds": alone})
        rows.append({"case": "library", "name": name, "condition": "after covertreex",
                     "seconds": after, "ratio": after / alone})
    return rows


def contention_rows(threads: int, n: int, queries: int, repeats: int) -> list[dict[str, Any]]:
    """W1 build and query of ours and kd_tree, alone and beside a competing job."""
    code = _W1.format(threads=threads, n=n, queries=queries, repeats=repeats)
    alone = run_child(code, ("results",))["results"]
    with CompetingJob(threads):
        busy = run_child(code, ("results",))["results"]
    rows = []
    for method in alone:
        for phase, t in (("build", 0), ("query", 1)):
            name = f"{method} {phase} (n={n})"
            rows.append({"case": "contention", "name": name, "condition": "alone",
                         "seconds": alone[method][t]})
            rows.append({"case": "contention", "name": name,
                         "condition": f"beside {threads} busy processes",
                         "seconds": busy[method][t], "ratio": busy[method][t] / alone[method][t]})
    return rows


def cold_rows(repeats: int) -> list[dict[str, Any]]:
    """Import times and the first fit + query with an empty numba cache.

    Imports are the fastest of ``repeats`` fresh processes each; the cold
    first call is measured once (it fills the cache the warm ones use).
    """
    keys = ("import_seconds", "first_call_seconds")
    sk = min(run_child(_IMPORT_SKLEARN, keys[:1])["import_seconds"] for _ in range(repeats))
    with tempfile.TemporaryDirectory(prefix="covertreex-cold-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        cold = run_child(_COLD, keys, env=env)
        runs = [run_child(_COLD, keys, env=env) for _ in range(repeats)]
    warm = {key: min(r[key] for r in runs) for key in keys}
    return [
        {"case": "cold start", "name": "import sklearn.neighbors", "condition": "fresh process",
         "seconds": sk},
        {"case": "cold start", "name": "import sklearn_covertreex", "condition": "fresh process",
         "seconds": warm["import_seconds"], "ratio": warm["import_seconds"] / sk},
        {"case": "cold start", "name": "first fit + kneighbors (100 points)",
         "condition": "empty numba cache", "seconds": cold["first_call_seconds"]},
        {"case": "cold start", "name": "first fit + kneighbors (100 points)",
         "condition": "numba cache warm", "seconds": warm["first_call_seconds"]},
    ]


def format_rows(rows: list[dict[str, Any]], threads: int) -> str:
    """The table printed by ``bench interop``."""
    load = "n/a"
    if hasattr(os, "getloadavg"):
        load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    lines = [f"bench interop: {threads} threads, load average {load}",
             f"{'case':<11} {'what':<38} {'condition':<26} {'seconds':>9} {'ratio':>7}"]
    for r in rows:
        seconds = f"{r['seconds']:.3f}" if "seconds" in r else "-"
        ratio = f"{r['ratio']:.2f}x" if "ratio" in r else ""
        lines.append(f"{r['case']:<11} {r['name']:<38} {r['condition']:<26} {seconds:>9} "
                     f"{ratio:>7}")
    return "\n".join(lines)


def run_interop(args: argparse.Namespace) -> int:
    """Run ``bench interop`` and print its table."""
    threads = resolve_threads(args.n_jobs)
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    unknown = skip - {"libraries", "contention", "cold"}
    if unknown:
        raise CliError(f"--skip takes libraries, contention, cold; got {sorted(unknown)}")
    out = Path(args.out) if args.out else default_artifacts_dir() / "bench_interop.jsonl"
    check_output_file(out, "--out")
    rows: list[dict[str, Any]] = []
    if "libraries" not in skip:
        rows += libraries_rows(threads, args.repeats)
    if "contention" not in skip:
        rows += contention_rows(threads, args.n, args.queries, args.repeats)
    if "cold" not in skip:
        rows += cold_rows(args.repeats)
    print(format_rows(rows, threads))
    run_id, machine = new_run_id(), machine_info(threads)
    records = [{**base_record("interop_run", run_id), "case": r["case"], "name": r["name"],
                "condition": r["condition"], "seconds": r.get("seconds"),
                "ratio": r.get("ratio"), "threads": threads, "machine": machine}
               for r in rows]
    write_records(out, records)
    print(f"records: {out}")
    return 0
