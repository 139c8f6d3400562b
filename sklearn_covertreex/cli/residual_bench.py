"""``covertreex bench residual``: residual-correlation k-NN against a blocked brute force.

Workloads (``PRESETS``): ``gold`` is N = 32,768 standard normal points in
d = 3, m = 512 random inducing points, RBF with variance 1 and length scale
1, k = 50, every point queried; ``ls03`` is the same with length scale 0.3,
``matern25`` with a Matern nu = 2.5 kernel. Each is answered twice: all-points
``kneighbors(X=None)`` and ``vecchia_neighbors``.

The bar (:func:`bar_knn`) is a float64 brute force written the direct way
with numpy and BLAS: the kernel tile from the scikit-learn kernel object, the
inner products from one matrix product per tile (multi-threaded BLAS), each
unordered pair evaluated once for all-points queries (and for the later row
only for Vecchia), and a running top-k per row kept with ``argpartition``.
It is independent of the package's own engines, and the recall of every
method is measured against it in the same process.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
import tracemalloc
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import numpy as np
import scipy.linalg as sla
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Kernel, Matern

from ..telemetry import (
    JsonlWriter,
    base_record,
    default_artifacts_dir,
    machine_info,
    new_run_id,
)
from .checks import check_memory, check_output_file
from .compare import compare_answers
from .errors import CliError, one_line
from .options import add_runtime_flags, positive_int, resolve_threads

#: Rows per tile of the bar's blocked brute force.
BAR_TILE = 2048

#: Tolerance of the exactness rule (:func:`.compare.compare_answers`) on residual
#: distances, relative to the largest: ``1 - |rho|`` carries absolute float64
#: rounding (about 1e-9 when the residual variances p are small) that ``sqrt``
#: magnifies near 0 (measured: at most 4e-9 at n=3000, m=128).
RESIDUAL_RTOL = 1e-6


@dataclasses.dataclass(frozen=True)
class ResidualWorkload:
    """One residual benchmark workload (points ~ N(0, I_d), seeded)."""

    name: str
    description: str
    n: int
    d: int
    m: int
    k: int
    kernel: str  # "rbf" or "matern25"
    length_scale: float

    def make_kernel(self) -> Kernel:
        """The workload's scikit-learn kernel (variance 1)."""
        base = (RBF(self.length_scale) if self.kernel == "rbf"
                else Matern(self.length_scale, nu=2.5))
        return ConstantKernel(1.0) * base


PRESETS = MappingProxyType({
    "gold": ResidualWorkload("gold", "N=32768 d=3 m=512 RBF(1.0) k=50", 32768, 3, 512, 50,
                             "rbf", 1.0),
    "ls03": ResidualWorkload("ls03", "gold with length scale 0.3", 32768, 3, 512, 50,
                             "rbf", 0.3),
    "matern25": ResidualWorkload("matern25", "gold with Matern nu=2.5", 32768, 3, 512, 50,
                                 "matern25", 1.0),
})


# ---------------------------------------------------------------------------
# the bar: a direct numpy / BLAS blocked brute force


def bar_statistics(kernel: Kernel, U: np.ndarray, jitter: float,
                   X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``V`` and ``p`` straight from the definition (scikit-learn kernel calls)."""
    K = kernel(U, U)
    K[np.diag_indices_from(K)] += jitter * float(np.mean(kernel.diag(U)))
    L = np.linalg.cholesky(K)
    V = sla.solve_triangular(L, kernel(U, X), lower=True, check_finite=False).T
    p = kernel.diag(X) - np.einsum("ij,ij->i", V, V)
    return np.ascontiguousarray(V), p


def _merge_topk(best_d: np.ndarray, best_i: np.ndarray, cand_d: np.ndarray,
                cand_i: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    d = np.concatenate([best_d, cand_d], axis=1)
    i = np.concatenate([best_i, cand_i], axis=1)
    part = np.argpartition(d, k - 1, axis=1)[:, :k]
    return np.take_along_axis(d, part, 1), np.take_along_axis(i, part, 1)


def bar_knn(kernel: Kernel, U: np.ndarray, jitter: float, X: np.ndarray, k: int,
            vecchia: bool = False, tile: int = BAR_TILE) -> tuple[np.ndarray, np.ndarray]:
    """All-points k-NN (each row excluding itself) or Vecchia k-NN, by brute force.

    Returns distances and ids, each row sorted ascending (ids -1 where fewer
    than k candidates exist).
    """
    n = X.shape[0]
    V, p = bar_statistics(kernel, U, jitter, X)
    inv_root_p = 1.0 / np.sqrt(p)
    best_d = np.full((n, k), np.inf)
    best_i = np.full((n, k), -1, np.int64)
    starts = range(0, n, tile)
    for a in starts:
        rows = slice(a, min(n, a + tile))
        for b in starts:
            if (b < a and not vecchia) or (b > a and vecchia):
                continue
            cols = slice(b, min(n, b + tile))
            rho = kernel(X[rows], X[cols])
            rho -= V[rows] @ V[cols].T
            rho *= inv_root_p[rows, None]
            rho *= inv_root_p[None, cols]
            d2 = 1.0 - np.abs(rho)
            np.maximum(d2, 0.0, out=d2)
            col_ids = np.broadcast_to(np.arange(cols.start, cols.stop), d2.shape)
            if a == b:
                mask = (col_ids >= np.arange(rows.start, rows.stop)[:, None]) if vecchia \
                    else (col_ids == np.arange(rows.start, rows.stop)[:, None])
                d2 = np.where(mask, np.inf, d2)
            best_d[rows], best_i[rows] = _merge_topk(best_d[rows], best_i[rows], d2,
                                                     col_ids, k)
            if b != a and not vecchia:
                row_ids = np.broadcast_to(np.arange(rows.start, rows.stop), d2.T.shape)
                best_d[cols], best_i[cols] = _merge_topk(best_d[cols], best_i[cols], d2.T,
                                                         row_ids, k)
    order = np.argsort(best_d, axis=1, kind="stable")
    best_d = np.sqrt(np.take_along_axis(best_d, order, 1))
    best_i = np.take_along_axis(best_i, order, 1)
    best_i[~np.isfinite(best_d)] = -1
    return best_d, best_i


# ---------------------------------------------------------------------------
# measurement


def recall_against(bar: tuple[np.ndarray, np.ndarray],
                   got: tuple[np.ndarray, np.ndarray]) -> tuple[float, bool]:
    """(fraction of the bar's ids found, whether the answer is exact up to ties).

    Exact up to ties is the rule of every benchmark,
    :func:`.compare.compare_answers`, with ``rtol = RESIDUAL_RTOL``.
    """
    bar_d, bar_i = bar
    got_d, got_i = got
    found = 0
    valid = 0
    for row in range(bar_i.shape[0]):
        want = bar_i[row][bar_i[row] >= 0]
        valid += want.size
        found += np.intersect1d(want, got_i[row]).size
    exact = compare_answers(got_d, got_i, bar_d, bar_i, RESIDUAL_RTOL)["exact"]
    return (found / valid if valid else 1.0), bool(exact)


def measured(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, seconds, peak traced memory in MiB) of ``fn()``."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        out = fn()
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    return out, seconds, peak


def make_points(w: ResidualWorkload, seed: int) -> np.ndarray:
    """The workload's points: standard normal, seeded."""
    return np.random.default_rng(seed).standard_normal((w.n, w.d))


def warm_up(w: ResidualWorkload, algorithm: str, strategies: dict[str, str]) -> None:
    """Fit and query a tiny estimator with the run's parameters, before any data exist.

    Compiles the kernels outside the timings and checks the parameters (and
    that the backend's optional extra is installed) before the real work.

    Parameters
    ----------
    w : ResidualWorkload
        Gives the kernel.
    algorithm : str
    strategies : dict
        Estimator parameters (``backend``, ``traversal``, ...).

    Raises
    ------
    CliError
        If the backend's optional dependency is missing (names the extra).
    ValueError
        For parameters the estimator rejects.
    """
    from ..engines.residual_blocked import TILE
    from ..estimators import ResidualCoverTreeNeighbors

    # more rows than one tile, so that the passes between different tiles
    # (all-points queries) are compiled here too, not inside the timings
    X = np.random.default_rng(0).standard_normal((TILE + 8, w.d))
    warm = ResidualCoverTreeNeighbors(n_neighbors=2, kernel=w.make_kernel(), inducing_points=4,
                                      algorithm=algorithm, random_state=0, **strategies)
    try:
        warm.fit(X).kneighbors()
    except ImportError as exc:
        raise CliError(one_line(exc)) from None
    warm.vecchia_neighbors()


def run_workload(w: ResidualWorkload, seed: int, n_jobs: int | None, algorithm: str,
                 log: Callable[[str], None], *, repeats: int = 1,
                 strategies: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Fit and answer both queries with the estimator and with the bar; one row each.

    ``strategies`` holds estimator parameters (``backend``, ``traversal``,
    ``conflict_graph``, ``batch_order``); the estimator's times are the
    minimum over ``repeats`` runs.
    """
    from ..estimators import ResidualCoverTreeNeighbors

    params = dict(strategies or {})
    warm_up(w, algorithm, params)
    X = make_points(w, seed)
    est = ResidualCoverTreeNeighbors(n_neighbors=w.k, kernel=w.make_kernel(),
                                     inducing_points=w.m, algorithm=algorithm,
                                     n_jobs=n_jobs, random_state=seed, **params)
    log(f"fit ({algorithm})")
    fit_s, fit_mem = math.inf, 0.0
    for _ in range(repeats):
        _, seconds, mem = measured(lambda: est.fit(X))
        fit_s, fit_mem = min(fit_s, seconds), max(fit_mem, mem)
    U, kernel, jitter = est.inducing_points_, est.kernel_, est.jitter
    rows = []
    for query in ("kneighbors", "vecchia"):
        vecchia = query == "vecchia"
        log(f"{query}: bar brute force")
        bar, bar_s, bar_mem = measured(
            lambda vecchia=vecchia: bar_knn(kernel, U, jitter, X, w.k, vecchia))
        log(f"{query}: estimator")
        call = ((lambda: est.vecchia_neighbors(return_distance=True)) if vecchia
                else (lambda: est.kneighbors()))
        q_s, q_mem = math.inf, 0.0
        for _ in range(repeats):
            got, seconds, mem = measured(call)
            q_s, q_mem = min(q_s, seconds), max(q_mem, mem)
        recall, exact = recall_against(bar, got)
        pairs = w.n * (w.n - 1) / 2
        common = {"workload": w.name, "query": query, "n": w.n, "d": w.d, "m": w.m, "k": w.k,
                  "kernel": repr(kernel)}
        rows.append({**common, "method": "bar-brute", "engine": "numpy-blas",
                     "fit_seconds": 0.0, "query_seconds": bar_s, "total_seconds": bar_s,
                     "peak_memory_mib": bar_mem, "evaluations_per_query": pairs / w.n,
                     "recall": 1.0, "exact_up_to_ties": True, "speedup_vs_bar": 1.0})
        total = fit_s + q_s
        backend = params.get("backend", "auto")
        method = f"covertreex-{algorithm}" + ("" if backend == "auto" else f"-{backend}")
        rows.append({**common, "method": method,
                     "engine": est.diagnostics_["algorithm"], "fit_seconds": fit_s,
                     "query_seconds": q_s, "total_seconds": total,
                     "peak_memory_mib": max(fit_mem, q_mem),
                     "evaluations_per_query": pairs / w.n, "recall": recall,
                     "exact_up_to_ties": exact, "speedup_vs_bar": bar_s / total})
    return rows


def format_rows(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of the measured rows."""
    head = (f"{'workload':9} {'query':10} {'method':24} {'fit s':>7} {'query s':>8} "
            f"{'total s':>8} {'peak MiB':>9} {'evals/q':>8} {'recall':>7} {'exact':>6} "
            f"{'vs bar':>7}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['workload']:9} {r['query']:10} {r['method']:24} {r['fit_seconds']:7.2f} "
            f"{r['query_seconds']:8.2f} {r['total_seconds']:8.2f} "
            f"{r['peak_memory_mib']:9.1f} {r['evaluations_per_query']:8.0f} "
            f"{r['recall']:7.4f} {str(r['exact_up_to_ties']):>6} {r['speedup_vs_bar']:6.2f}x")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# command line


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``bench residual``."""
    r = sub.add_parser("residual", help="residual-correlation k-NN against a brute force",
                       description="Fit ResidualCoverTreeNeighbors and answer all-points and "
                                   "Vecchia k-NN beside a float64 blocked brute force.")
    r.add_argument("--preset", nargs="+", default=["gold"], choices=sorted(PRESETS),
                   help="workloads, run one after the other (default: gold)")
    r.add_argument("--n", type=positive_int, default=None, help="override the points")
    r.add_argument("--d", type=positive_int, default=None, help="override the dimension")
    r.add_argument("--m", type=positive_int, default=None, help="override the inducing points")
    r.add_argument("--k", type=positive_int, default=None, help="override k")
    r.add_argument("--algorithm", default="auto",
                   help="estimator algorithm: auto, brute, tree (default: auto)")
    r.add_argument("--repeats", type=positive_int, default=1,
                   help="timed repetitions of fit and queries, minimum reported "
                        "(default: %(default)s)")
    add_runtime_flags(r)
    r.set_defaults(conflict_graph="tree")  # the residual estimator's default
    r.add_argument("--out", default=None, metavar="PATH",
                   help="JSONL records file (default: artifacts/benchmarks/bench_residual.jsonl)")
    r.set_defaults(handler=run_residual)


def workload_from_args(args: argparse.Namespace, preset: str) -> ResidualWorkload:
    """The preset with ``--n --d --m --k`` overrides applied."""
    w = PRESETS[preset]
    changes = {key: getattr(args, key) for key in ("n", "d", "m", "k")
               if getattr(args, key) is not None}
    w = dataclasses.replace(w, **changes)
    if w.k >= w.n:
        raise CliError(f"k={w.k} is too large for n={w.n} points (each point excludes itself)")
    if w.m > w.n:
        raise CliError(f"m={w.m} inducing points is more than n={w.n} points")
    check_memory(workload_bytes(w), f"residual workload {w.name} (n={w.n}, d={w.d}, m={w.m}, "
                                    f"k={w.k})")
    return w


def workload_bytes(w: ResidualWorkload) -> float:
    """A lower bound of a residual workload's memory: points, ``V`` (n x m), answers, tiles.

    Parameters
    ----------
    w : ResidualWorkload

    Returns
    -------
    float
        Bytes.
    """
    return (8.0 * w.n * (w.d + 3.0 * w.m) + 16.0 * w.n * w.k * 6.0
            + 8.0 * 6.0 * BAR_TILE * min(BAR_TILE, w.n) + 8.0 * w.m * w.m)


def run_residual(args: argparse.Namespace) -> int:
    """Run the chosen residual workloads; exit status 1 if an answer was not exact."""
    from ..engines.residual import check_choices

    check_choices(args.algorithm, args.backend)
    workloads = [workload_from_args(args, preset) for preset in args.preset]
    out = check_output_file(default_artifacts_dir() / "bench_residual.jsonl" if args.out is None
                            else args.out, "--out")
    threads = resolve_threads(args.n_jobs)
    strategies = {"backend": args.backend, "construction": args.construction,
                  "traversal": args.traversal,
                  "conflict_graph": args.conflict_graph, "batch_order": args.batch_order}
    for w in workloads:  # parameters, extras and compilation, before any data
        warm_up(w, args.algorithm, strategies)
    run_id = new_run_id()
    machine = machine_info(threads)
    status = 0
    with JsonlWriter(out) as writer:
        for w in workloads:
            rows = run_workload(w, args.seed, args.n_jobs, args.algorithm,
                                lambda message, w=w: print(f"[{w.name}] {message}",
                                                           file=sys.stderr, flush=True),
                                repeats=args.repeats, strategies=strategies)
            print(format_rows(rows))
            for row in rows:
                writer.write({**base_record("residual_run", run_id), **row,
                              "threads": int(threads), "machine": machine})
                if row["exact_up_to_ties"] is False:
                    status = 1
    print(f"records appended to {out}")
    return status

