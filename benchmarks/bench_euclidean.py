"""Benchmark the cover tree against scikit-learn's Euclidean k-NN algorithms.

Compares ``sklearn_covertreex.CoverTree`` with ``sklearn.neighbors.NearestNeighbors``
using ``algorithm="kd_tree"``, ``"ball_tree"`` and ``"brute"``, all with the same
thread count, on four workloads:

* ``W1``: 100,000 standard normal points in d = 3, 10,000 separate queries, k = 16;
* ``W2``: the same in d = 8;
* ``W3``: 200,000 points on a random 4-dimensional linear subspace of d = 16
  (random orthonormal basis) plus 1e-3 Gaussian noise, 10,000 queries drawn the
  same way, k = 16;
* ``W4``: all-points k-NN on W1's points (``X=None`` semantics, self excluded), k = 16.

For every workload and method it reports the build time, the query time, their
ratios to ``kd_tree``, the peak memory of build + query, and exactness against
``brute`` (largest distance difference, fraction of rows with the same id set).

Timings are taken in the main process, all methods side by side, after a numba
warm-up on tiny data (compilation is not counted as build time). Peak memory is
measured per method in a fresh ``spawn`` child process, as the increase of
``ru_maxrss`` over the child's own baseline taken after imports, data generation
and warm-up. A spawned child inherits its parent's ``ru_maxrss`` high-water mark
at ``exec`` time, so every memory child is started before the main process has
generated any data or imported the heavy libraries.

Examples
--------
Quick smoke run::

    python benchmarks/bench_euclidean.py --scale 0.05

Full scale, two workloads, numbers saved to a file::

    python benchmarks/bench_euclidean.py --workloads W1,W4 --json out.json
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

import numpy as np

METHODS: tuple[str, ...] = ("covertree", "kd_tree", "ball_tree", "brute")
REFERENCE_METHOD = "brute"
RATIO_BASE_METHOD = "kd_tree"
EXACT_RTOL = 1e-10
WARMUP_POINTS = 2048


@dataclasses.dataclass(frozen=True)
class Workload:
    """Description of one benchmark workload (at scale 1).

    Parameters
    ----------
    name : str
        Short name (``"W1"`` ...).
    description : str
        One-line human-readable description.
    kind : {"gaussian", "subspace"}
        How points are drawn.
    n : int
        Number of indexed points.
    n_queries : int
        Number of separate queries (ignored when ``all_points``).
    d : int
        Ambient dimension.
    k : int
        Number of neighbours.
    all_points : bool
        Query the indexed points themselves, excluding each point from its own
        neighbours (``kneighbors(X=None)`` semantics).
    data_seed : int
        Mixed into the global seed; workloads sharing it share their points.
    intrinsic_dim : int
        Dimension of the linear subspace (``"subspace"`` only).
    noise : float
        Standard deviation of the Gaussian noise (``"subspace"`` only).
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
        """Return a copy with ``n`` and ``n_queries`` multiplied by ``scale``.

        Parameters
        ----------
        scale : float
            Positive multiplier.

        Returns
        -------
        Workload
            The scaled workload (at least ``k + 2`` points and one query).
        """
        n = max(int(round(self.n * scale)), self.k + 2)
        n_queries = max(int(round(self.n_queries * scale)), 1)
        return dataclasses.replace(self, n=n, n_queries=n_queries)


WORKLOADS: tuple[Workload, ...] = (
    Workload("W1", "standard normal, d=3", "gaussian", 100_000, 10_000, 3, 16, data_seed=1),
    Workload("W2", "standard normal, d=8", "gaussian", 100_000, 10_000, 8, 16, data_seed=2),
    Workload("W3", "4-dim linear subspace of d=16 + 1e-3 noise", "subspace", 200_000, 10_000,
             16, 16, data_seed=3, intrinsic_dim=4, noise=1e-3),
    Workload("W4", "all-points k-NN on W1's points (self excluded)", "gaussian", 100_000, 0, 3,
             16, all_points=True, data_seed=1),
)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything a run needs, picklable so spawned children can receive it.

    Parameters
    ----------
    threads : int
        Thread count used by every method.
    seed : int
        Global seed of the data and of the cover tree's random choices.
    repeats : int
        Number of timed repetitions (the minimum is reported).
    backend, traversal, conflict_graph, batch_order : str
        Cover tree ``Runtime`` choices.
    """

    threads: int
    seed: int
    repeats: int
    backend: str
    traversal: str
    conflict_graph: str
    batch_order: str

    def runtime(self) -> Any:
        """Build the cover tree ``Runtime`` for these settings.

        Returns
        -------
        sklearn_covertreex.Runtime
            Validated runtime with ``n_jobs=threads`` and diagnostics on.
        """
        from sklearn_covertreex import Runtime

        return Runtime(backend=self.backend, traversal=self.traversal,
                       conflict_graph=self.conflict_graph, batch_order=self.batch_order,
                       n_jobs=self.threads, seed=self.seed, diagnostics=True).validate()


@dataclasses.dataclass
class RunResult:
    """Output of one build + query of one method.

    Parameters
    ----------
    build_s, query_s : float
        Wall-clock seconds of the build and of the query.
    distances : ndarray of shape (n_queries, k)
        Neighbour distances, ascending per row.
    ids : ndarray of shape (n_queries, k)
        Neighbour ids.
    diagnostics : dict or None
        Cover tree build diagnostics (``None`` for scikit-learn methods).
    """

    build_s: float
    query_s: float
    distances: np.ndarray
    ids: np.ndarray
    diagnostics: dict[str, Any] | None = None


# --------------------------------------------------------------------------- data
def make_data(workload: Workload, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Generate the points and queries of a workload deterministically.

    Parameters
    ----------
    workload : Workload
        The (already scaled) workload.
    seed : int
        Global seed.

    Returns
    -------
    X : ndarray of shape (n, d), float64
        Indexed points.
    Q : ndarray of shape (n_queries, d), float64, or None
        Separate queries; ``None`` for all-points workloads.
    """
    rng = np.random.default_rng([seed, workload.data_seed])
    if workload.kind == "gaussian":
        X = rng.standard_normal((workload.n, workload.d))
        Q = None if workload.all_points else rng.standard_normal((workload.n_queries, workload.d))
        return X, Q
    if workload.kind == "subspace":
        basis, _ = np.linalg.qr(rng.standard_normal((workload.d, workload.intrinsic_dim)))
        X = _subspace_points(rng, basis, workload.n, workload.noise)
        Q = None if workload.all_points else _subspace_points(rng, basis, workload.n_queries,
                                                              workload.noise)
        return X, Q
    raise ValueError(f"unknown workload kind {workload.kind!r}")


def _subspace_points(rng: np.random.Generator, basis: np.ndarray, n: int, noise: float,
                     chunk: int = 16_384) -> np.ndarray:
    """Points ``Z @ basis.T + noise * N(0, I)``, built in chunks to bound temporaries."""
    out = rng.standard_normal((n, basis.shape[0]))
    out *= noise
    coords = rng.standard_normal((n, basis.shape[1]))
    for start in range(0, n, chunk):
        out[start:start + chunk] += coords[start:start + chunk] @ basis.T
    return out


# ------------------------------------------------------------------------ methods
def drop_self(distances: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Remove each row's own index from a ``k + 1``-NN answer on the indexed points.

    Mirrors ``NearestNeighbors.kneighbors(X=None)``: row ``i`` loses id ``i``; if
    ``i`` is not among its ``k + 1`` neighbours (exact duplicates), the last
    column is dropped instead.

    Parameters
    ----------
    distances, ids : ndarray of shape (n, k + 1)
        Answer of querying the indexed points with ``k + 1`` neighbours.

    Returns
    -------
    distances, ids : ndarray of shape (n, k)
    """
    n, k1 = ids.shape
    is_self = ids == np.arange(n)[:, None]
    is_self[~is_self.any(axis=1), -1] = True
    keep = ~is_self
    return distances[keep].reshape(n, k1 - 1), ids[keep].reshape(n, k1 - 1)


def _thread_limits(threads: int) -> Any:
    """Context manager limiting BLAS/OpenMP pools to ``threads``."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads)


def configure_numba_threads(settings: Settings) -> None:
    """Cap numba's thread count to ``settings.threads`` for the whole process.

    ``Runtime(n_jobs=...)`` sets the threads of the cover tree's queries; this
    also caps kernels that run outside such a scope (for example during a build).

    Parameters
    ----------
    settings : Settings
        Run settings.
    """
    if settings.backend not in ("numba", "auto"):
        return
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a hard dependency
        return
    numba.set_num_threads(max(1, min(settings.threads, numba.config.NUMBA_NUM_THREADS)))


def run_covertree(X: np.ndarray, Q: np.ndarray | None, k: int,
                  settings: Settings) -> RunResult:
    """Build the cover tree on ``X`` and answer the k-NN queries.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Indexed points.
    Q : ndarray of shape (m, d) or None
        Queries; ``None`` means all-points k-NN on ``X`` with self excluded.
    k : int
        Number of neighbours.
    settings : Settings
        Run settings.

    Returns
    -------
    RunResult
    """
    from sklearn_covertreex import CoverTree

    runtime = settings.runtime()
    with _thread_limits(settings.threads):
        t0 = time.perf_counter()
        tree = CoverTree(runtime).fit(X)
        t1 = time.perf_counter()
        if Q is None:
            dist, ids = drop_self(*tree.knn(X, k + 1))
        else:
            dist, ids = tree.knn(Q, k)
        t2 = time.perf_counter()
    diagnostics = tree.diagnostics
    return RunResult(t1 - t0, t2 - t1, dist, ids,
                     None if diagnostics is None else dict(diagnostics))


def run_sklearn(algorithm: str, X: np.ndarray, Q: np.ndarray | None, k: int,
                settings: Settings) -> RunResult:
    """Fit ``NearestNeighbors(algorithm=algorithm)`` on ``X`` and query it.

    Parameters
    ----------
    algorithm : {"kd_tree", "ball_tree", "brute"}
        scikit-learn algorithm.
    X : ndarray of shape (n, d)
        Indexed points.
    Q : ndarray of shape (m, d) or None
        Queries; ``None`` calls ``kneighbors()`` (self excluded).
    k : int
        Number of neighbours.
    settings : Settings
        Run settings.

    Returns
    -------
    RunResult
    """
    from sklearn.neighbors import NearestNeighbors

    with _thread_limits(settings.threads):
        model = NearestNeighbors(n_neighbors=k, algorithm=algorithm, n_jobs=settings.threads)
        t0 = time.perf_counter()
        model.fit(X)
        t1 = time.perf_counter()
        dist, ids = model.kneighbors(Q, n_neighbors=k)
        t2 = time.perf_counter()
    return RunResult(t1 - t0, t2 - t1, dist, ids)


def run_method(method: str, X: np.ndarray, Q: np.ndarray | None, k: int,
               settings: Settings) -> RunResult:
    """Dispatch to :func:`run_covertree` or :func:`run_sklearn`.

    Parameters
    ----------
    method : str
        One of :data:`METHODS`.
    X, Q, k, settings
        See :func:`run_covertree`.

    Returns
    -------
    RunResult
    """
    if method == "covertree":
        return run_covertree(X, Q, k, settings)
    return run_sklearn(method, X, Q, k, settings)


def warm_up(method: str, workload: Workload, settings: Settings) -> None:
    """Run ``method`` once on tiny data so JIT compilation and pool start-up are not timed.

    Parameters
    ----------
    method : str
        One of :data:`METHODS`.
    workload : Workload
        Gives the dimension, ``k`` and the query mode.
    settings : Settings
        Run settings.
    """
    rng = np.random.default_rng([settings.seed, 999])
    X = rng.standard_normal((WARMUP_POINTS, workload.d))
    Q = None if workload.all_points else rng.standard_normal((64, workload.d))
    run_method(method, X, Q, workload.k, settings)


# ------------------------------------------------------------------------- memory
def _maxrss_mib() -> float:
    """Peak resident set size of this process in MiB (``ru_maxrss``)."""
    raw = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return raw / (1024.0 * 1024.0) if sys.platform == "darwin" else raw / 1024.0


def _current_rss_mib() -> float | None:
    """Current resident set size in MiB (Linux only, else ``None``)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024.0 * 1024.0)


def memory_child(method: str, workload: Workload, settings: Settings) -> dict[str, Any]:
    """Measure the peak memory of one build + query (runs in a spawned child).

    Parameters
    ----------
    method : str
        One of :data:`METHODS`.
    workload : Workload
        The (already scaled) workload.
    settings : Settings
        Run settings.

    Returns
    -------
    dict
        ``peak_mib`` (increase of ``ru_maxrss`` over the baseline), the
        baseline's ``ru_maxrss`` and current RSS, and the child's timings.
    """
    import sklearn  # noqa: F401  (import cost belongs to the baseline)

    import sklearn_covertreex  # noqa: F401

    configure_numba_threads(settings)
    X, Q = make_data(workload, settings.seed)
    warm_up(method, workload, settings)
    gc.collect()
    baseline = _maxrss_mib()
    baseline_rss = _current_rss_mib()
    result = run_method(method, X, Q, workload.k, settings)
    peak = _maxrss_mib()
    return {"peak_mib": max(peak - baseline, 0.0), "baseline_maxrss_mib": baseline,
            "baseline_rss_mib": baseline_rss, "final_maxrss_mib": peak,
            "child_build_s": result.build_s, "child_query_s": result.query_s}


def measure_memory(workloads: Sequence[Workload], settings: Settings,
                   log: Callable[[str], None]) -> dict[tuple[str, str], dict[str, Any]]:
    """Run :func:`memory_child` for every workload and method, one fresh child each.

    Parameters
    ----------
    workloads : sequence of Workload
        The (already scaled) workloads.
    settings : Settings
        Run settings.
    log : callable
        Progress printer.

    Returns
    -------
    dict
        ``(workload name, method) -> memory_child's dict``.
    """
    context = get_context("spawn")
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for workload in workloads:
        for method in METHODS:
            log(f"[memory] {workload.name} {method} ...")
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                out[workload.name, method] = pool.submit(memory_child, method, workload,
                                                         settings).result()
    return out


# ---------------------------------------------------------------------- exactness
def exactness(result: RunResult, reference: RunResult) -> dict[str, float]:
    """Compare an answer with the reference (brute) answer.

    Parameters
    ----------
    result, reference : RunResult

    Returns
    -------
    dict
        ``max_abs_diff`` of the distances; ``max_rel_diff``, the same divided by
        the largest reference distance (scikit-learn's brute force computes
        ``sqrt(|x|^2 - 2 x.y + |y|^2)``, whose error is absolute, so an
        elementwise ratio blows up on tiny distances; that ratio is kept as
        ``max_elementwise_rel_diff``); and ``id_match_fraction``, the fraction
        of rows whose id sets are equal (ties may legitimately differ).
    """
    diff = np.abs(result.distances - reference.distances)
    tiny = np.finfo(np.float64).tiny
    largest = float(np.abs(reference.distances).max(initial=0.0))
    elementwise = diff / np.maximum(np.abs(reference.distances), tiny)
    same_ids = np.all(np.sort(result.ids, axis=1) == np.sort(reference.ids, axis=1), axis=1)
    max_abs = float(diff.max(initial=0.0))
    return {"max_abs_diff": max_abs,
            "max_rel_diff": max_abs / max(largest, tiny),
            "max_elementwise_rel_diff": float(elementwise.max(initial=0.0)),
            "id_match_fraction": float(same_ids.mean()) if same_ids.size else 1.0}


# -------------------------------------------------------------------------- runs
def time_workload(workload: Workload, settings: Settings,
                  log: Callable[[str], None]) -> dict[str, dict[str, Any]]:
    """Time every method on one workload in this process and check exactness.

    Parameters
    ----------
    workload : Workload
        The (already scaled) workload.
    settings : Settings
        Run settings.
    log : callable
        Progress printer.

    Returns
    -------
    dict
        ``method -> numbers`` (times, ratios, exactness, diagnostics).
    """
    X, Q = make_data(workload, settings.seed)
    results: dict[str, RunResult] = {}
    numbers: dict[str, dict[str, Any]] = {}
    for method in METHODS:
        warm_up(method, workload, settings)
        builds: list[float] = []
        queries: list[float] = []
        for rep in range(settings.repeats):
            log(f"[time] {workload.name} {method} repeat {rep + 1}/{settings.repeats} ...")
            gc.collect()
            result = run_method(method, X, Q, workload.k, settings)
            builds.append(result.build_s)
            queries.append(result.query_s)
        results[method] = result
        numbers[method] = {"build_s": min(builds), "query_s": min(queries),
                           "build_s_all": builds, "query_s_all": queries,
                           "diagnostics": result.diagnostics}
    reference = results[REFERENCE_METHOD]
    base = numbers[RATIO_BASE_METHOD]
    for method, entry in numbers.items():
        entry.update(exactness(results[method], reference))
        versus_kd = exactness(results[method], results[RATIO_BASE_METHOD])
        entry["max_abs_diff_vs_kd_tree"] = versus_kd["max_abs_diff"]
        entry["id_match_fraction_vs_kd_tree"] = versus_kd["id_match_fraction"]
        entry["exact"] = bool(entry["max_rel_diff"] <= EXACT_RTOL)
        entry["build_ratio_vs_kd_tree"] = _ratio(entry["build_s"], base["build_s"])
        entry["query_ratio_vs_kd_tree"] = _ratio(entry["query_s"], base["query_s"])
    return numbers


def _ratio(value: float, base: float) -> float:
    return value / base if base > 0 else float("inf")


# ------------------------------------------------------------------------ output
def machine_info(settings: Settings) -> dict[str, Any]:
    """Versions and hardware facts for the report header.

    Parameters
    ----------
    settings : Settings
        Run settings.

    Returns
    -------
    dict
    """
    import numba
    import sklearn

    import sklearn_covertreex

    return {"cpu_count": os.cpu_count(), "processor": platform.processor(),
            "platform": platform.platform(), "python": platform.python_version(),
            "numpy": np.__version__, "sklearn": sklearn.__version__,
            "numba": numba.__version__, "sklearn_covertreex": sklearn_covertreex.__version__,
            "threads": settings.threads}


def format_header(info: dict[str, Any], settings: Settings) -> str:
    """The machine line and the settings line printed above the tables."""
    machine = (f"machine: cpu_count={info['cpu_count']} processor={info['processor']!r} "
               f"python={info['python']} numpy={info['numpy']} sklearn={info['sklearn']} "
               f"numba={info['numba']} threads={info['threads']}")
    config = (f"covertree: backend={settings.backend} traversal={settings.traversal} "
              f"conflict_graph={settings.conflict_graph} batch_order={settings.batch_order} "
              f"seed={settings.seed} repeats={settings.repeats} (min reported); "
              f"ratios = time / kd_tree time (lower is better)")
    legend = (f"exact: distances vs brute, max|dd| absolute and rel = max|dd| / largest brute "
              f"distance ('yes' if rel <= {EXACT_RTOL:g}); ids = rows whose id set equals "
              f"brute's; peak MiB = ru_maxrss increase of build+query in a spawned child")
    return "\n".join((machine, config, legend))


def format_table(workload: Workload, numbers: dict[str, dict[str, Any]],
                 memory: dict[tuple[str, str], dict[str, Any]] | None) -> str:
    """Plain-text table of one workload.

    Parameters
    ----------
    workload : Workload
        The (already scaled) workload.
    numbers : dict
        Output of :func:`time_workload`.
    memory : dict or None
        Output of :func:`measure_memory` (``None`` with ``--no-memory``).

    Returns
    -------
    str
    """
    queries = f"all {workload.n} points (self excluded)" if workload.all_points else (
        f"{workload.n_queries} queries")
    lines = [f"{workload.name}: {workload.description}; n={workload.n} d={workload.d} "
             f"{queries} k={workload.k}"]
    head = (f"{'method':<10} {'build s':>9} {'query s':>9} {'build/kd':>9} {'query/kd':>9} "
            f"{'peak MiB':>9}  exact")
    lines += [head, "-" * (len(head) + 40)]
    for method in METHODS:
        entry = numbers[method]
        peak = "-" if memory is None else f"{memory[workload.name, method]['peak_mib']:.1f}"
        if method == REFERENCE_METHOD:
            exact = "reference"
        else:
            exact = (f"{'yes' if entry['exact'] else 'NO'} (max|dd|={entry['max_abs_diff']:.1e}"
                     f" rel={entry['max_rel_diff']:.1e}, ids "
                     f"{100.0 * entry['id_match_fraction']:.2f}%; vs kd_tree: max|dd|="
                     f"{entry['max_abs_diff_vs_kd_tree']:.1e})")
        lines.append(f"{method:<10} {entry['build_s']:>9.3f} {entry['query_s']:>9.3f} "
                     f"{entry['build_ratio_vs_kd_tree']:>8.2f}x "
                     f"{entry['query_ratio_vs_kd_tree']:>8.2f}x {peak:>9}  {exact}")
    diag = numbers["covertree"].get("diagnostics") or {}
    phases = diag.get("seconds") or {}
    if phases:
        lines.append("covertree build phases (s): "
                     + " ".join(f"{name}={float(sec):.3f}" for name, sec in phases.items()))
    return "\n".join(lines)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


# -------------------------------------------------------------------------- main
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    argparse.Namespace
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default=",".join(w.name for w in WORKLOADS),
                        help="comma-separated subset of W1,W2,W3,W4 (default: all)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiplier of n and of the number of queries (default: 1.0)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads for every method (default: os.cpu_count())")
    parser.add_argument("--repeats", type=int, default=1,
                        help="timed repetitions per method, minimum reported (default: 1)")
    parser.add_argument("--seed", type=int, default=0, help="global seed (default: 0)")
    parser.add_argument("--backend", default="numba", help="cover tree backend")
    parser.add_argument("--traversal", default="sparse", help="cover tree traversal")
    parser.add_argument("--conflict-graph", default="segmented", help="cover tree conflict graph")
    parser.add_argument("--batch-order", default="random", help="cover tree batch order")
    parser.add_argument("--json", default=None, metavar="PATH", help="write all numbers here")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the peak-memory measurement in child processes")
    args = parser.parse_args(argv)
    known = {w.name for w in WORKLOADS}
    args.workload_names = [name.strip().upper() for name in args.workloads.split(",")
                           if name.strip()]
    unknown = sorted(set(args.workload_names) - known)
    if unknown or not args.workload_names:
        parser.error(f"unknown workloads {unknown}; choose from {sorted(known)}")
    if args.scale <= 0:
        parser.error("--scale must be positive")
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments.

    Returns
    -------
    int
        Exit status.
    """
    args = parse_args(argv)
    settings = Settings(threads=args.threads, seed=args.seed, repeats=args.repeats,
                        backend=args.backend, traversal=args.traversal,
                        conflict_graph=args.conflict_graph, batch_order=args.batch_order)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        settings.runtime()  # validate the cover tree options before anything runs
    except ValueError as exc:
        log(f"error: {exc}")
        return 2
    by_name = {w.name: w for w in WORKLOADS}
    workloads = [by_name[name].scaled(args.scale) for name in args.workload_names]

    # Memory children first: a spawned child inherits the parent's ru_maxrss
    # high-water mark, so the parent must still be small when they start.
    memory = None if args.no_memory else measure_memory(workloads, settings, log)

    configure_numba_threads(settings)
    info = machine_info(settings)
    report: dict[str, Any] = {"machine": info, "settings": dataclasses.asdict(settings),
                              "scale": args.scale, "workloads": []}
    tables = [format_header(info, settings)]
    print(tables[0], flush=True)
    for workload in workloads:
        numbers = time_workload(workload, settings, log)
        if memory is not None:
            for method in METHODS:
                numbers[method]["memory"] = memory[workload.name, method]
                numbers[method]["peak_mib"] = memory[workload.name, method]["peak_mib"]
        table = format_table(workload, numbers, memory)
        tables.append(table)
        print("\n" + table, flush=True)
        report["workloads"].append({**dataclasses.asdict(workload), "methods": numbers})
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2, default=_json_default)
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
