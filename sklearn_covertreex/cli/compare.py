"""Time the cover tree beside scikit-learn's kd_tree, ball_tree and brute; check exactness.

Shared by ``covertreex demo`` and ``covertreex bench``: every method runs in
this process, on the same data, with the same thread count (numba threads for
the cover tree; ``n_jobs`` and ``threadpoolctl`` limits for scikit-learn).
"""

from __future__ import annotations

import dataclasses
import gc
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..api import CoverTree, QueryDiagnostics
from ..runtime import Runtime

SKLEARN_METHODS: tuple[str, ...] = ("kd_tree", "ball_tree", "brute")
COVERTREE = "covertree"
REFERENCE = "brute"
#: Largest |distance difference| / largest brute distance still called exact.
EXACT_RTOL = 1e-10
#: Builds with fewer rows than this get no progress bar.
PROGRESS_MIN_ROWS = 50_000
_WARMUP_POINTS = 512


@dataclasses.dataclass
class MethodResult:
    """Timings and answer of one method (minimum over repeats).

    Parameters
    ----------
    method : str
    build_s, query_s : float
        Smallest wall-clock seconds of build and query over the repeats.
    distances, ids : ndarray of shape (n_queries, k)
    diagnostics : dict or None
        Cover tree build diagnostics.
    evaluations : ndarray of shape (n_queries,) or None
        Cover tree distance evaluations per query.
    pruned : ndarray of shape (n_queries,) or None
        Cover tree nodes pruned per query.
    """

    method: str
    build_s: float
    query_s: float
    distances: np.ndarray
    ids: np.ndarray
    diagnostics: dict[str, Any] | None = None
    evaluations: np.ndarray | None = None
    pruned: np.ndarray | None = None


@contextmanager
def progress_bar(total: int, desc: str, enabled: bool) -> Iterator[Callable[[int], object] | None]:
    """A tqdm ``update`` callback when enabled, tqdm importable and ``total`` large.

    Parameters
    ----------
    total : int
        Units of work (rows); below :data:`PROGRESS_MIN_ROWS` there is no bar.
    desc : str
        Bar label.
    enabled : bool
        False disables the bar.

    Yields
    ------
    callable or None
    """
    if not enabled or total < PROGRESS_MIN_ROWS:
        yield None
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:
        yield None
        return
    bar = tqdm(total=total, desc=desc, unit="pt", leave=False)
    try:
        yield bar.update
    finally:
        bar.close()


def _thread_limits(threads: int) -> Any:
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads)


def drop_self(distances: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Remove each row's own index from a ``k + 1``-NN answer on the indexed points.

    Row ``i`` loses id ``i``; if ``i`` is not among its neighbours (exact
    duplicates), the last column is dropped instead (``kneighbors(X=None)``).
    """
    n, k1 = ids.shape
    is_self = ids == np.arange(n)[:, None]
    is_self[~is_self.any(axis=1), -1] = True
    keep = ~is_self
    return distances[keep].reshape(n, k1 - 1), ids[keep].reshape(n, k1 - 1)


def count_evaluations(tree: CoverTree, Q: np.ndarray, k: int) -> QueryDiagnostics:
    """Query diagnostics of a k-NN search (an extra, untimed pass through the public API).

    Parameters
    ----------
    tree : CoverTree
    Q : ndarray of shape (m, d)
    k : int

    Returns
    -------
    QueryDiagnostics
        Distance evaluations and pruned nodes per query.
    """
    return tree.knn(Q, k, return_diagnostics=True)[2]


def run_covertree(X: np.ndarray, Q: np.ndarray | None, k: int, runtime: Runtime, *,
                  progress: Callable[[int], object] | None = None,
                  evaluations: bool = True) -> MethodResult:
    """Build a cover tree on ``X`` and answer the k-NN queries (public API).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    Q : ndarray of shape (m, d) or None
        ``None``: all-points k-NN on ``X``, each point excluding itself.
    k : int
    runtime : Runtime
        Its ``n_jobs`` is the thread count.
    progress : callable, optional
        Build progress callback.
    evaluations : bool, default=True
        Also count distance evaluations (untimed second query pass).

    Returns
    -------
    MethodResult
    """
    with _thread_limits(runtime.n_jobs or 1):
        t0 = time.perf_counter()
        tree = CoverTree(runtime).fit(X, progress=progress)
        t1 = time.perf_counter()
        if Q is None:
            dist, ids = drop_self(*tree.knn(X, k + 1))
        else:
            dist, ids = tree.knn(Q, k)
        t2 = time.perf_counter()
        evals = pruned = None
        if evaluations:
            diag = count_evaluations(tree, X if Q is None else Q, k + 1 if Q is None else k)
            evals, pruned = diag.distance_evaluations, diag.pruned_nodes
    diag = tree.diagnostics
    return MethodResult(COVERTREE, t1 - t0, t2 - t1, dist, ids,
                        None if diag is None else dict(diag), evals, pruned)


def run_sklearn(algorithm: str, X: np.ndarray, Q: np.ndarray | None, k: int,
                threads: int) -> MethodResult:
    """Fit ``sklearn.neighbors.NearestNeighbors(algorithm=...)`` on ``X`` and query it.

    Parameters
    ----------
    algorithm : {"kd_tree", "ball_tree", "brute"}
    X : ndarray of shape (n, d)
    Q : ndarray of shape (m, d) or None
        ``None`` calls ``kneighbors()`` (each point excluding itself).
    k : int
    threads : int

    Returns
    -------
    MethodResult
    """
    from sklearn.neighbors import NearestNeighbors

    with _thread_limits(threads):
        model = NearestNeighbors(n_neighbors=k, algorithm=algorithm, n_jobs=threads)
        t0 = time.perf_counter()
        model.fit(X)
        t1 = time.perf_counter()
        dist, ids = model.kneighbors(Q, n_neighbors=k)
        t2 = time.perf_counter()
    return MethodResult(algorithm, t1 - t0, t2 - t1, dist, ids)


def warm_up(runtime: Runtime, d: int, k: int, methods: Sequence[str]) -> None:
    """Run every method once on tiny data so compilation and imports are not timed."""
    rng = np.random.default_rng(12345)
    X = rng.standard_normal((max(_WARMUP_POINTS, 2 * k + 2), d))
    Q = X[: min(64, X.shape[0])] + 0.01
    for method in methods:
        if method == COVERTREE:
            run_covertree(X, Q, k, runtime)
            run_covertree(X, None, k, runtime)
        else:
            run_sklearn(method, X, Q, k, runtime.n_jobs or 1)


def run_methods(X: np.ndarray, Q: np.ndarray | None, k: int, runtime: Runtime,
                methods: Sequence[str], *, repeats: int = 1, progress: bool = False,
                log: Callable[[str], None] = lambda message: None) -> dict[str, MethodResult]:
    """Time every method (best of ``repeats``) on the same data, after a warm-up.

    Parameters
    ----------
    X, Q, k, runtime
        As in :func:`run_covertree`.
    methods : sequence of str
        ``"covertree"`` and/or scikit-learn algorithms.
    repeats : int, default=1
    progress : bool, default=False
        Show tqdm bars on long phases (when tqdm is installed).
    log : callable
        Called with one line per timed run.

    Returns
    -------
    dict
        ``method -> MethodResult`` (answer of the last repeat, best times).
    """
    threads = runtime.n_jobs or 1
    warm_up(runtime, X.shape[1], k, methods)
    results: dict[str, MethodResult] = {}
    for method in methods:
        best: MethodResult | None = None
        for rep in range(repeats):
            log(f"{method}: run {rep + 1}/{repeats}")
            gc.collect()
            if method == COVERTREE:
                with progress_bar(X.shape[0], "cover tree build", progress) as update:
                    result = run_covertree(X, Q, k, runtime, progress=update,
                                           evaluations=rep == repeats - 1)
            else:
                result = run_sklearn(method, X, Q, k, threads)
            if best is not None:
                result.build_s = min(result.build_s, best.build_s)
                result.query_s = min(result.query_s, best.query_s)
            best = result
        assert best is not None
        results[method] = best
    return results


def exactness(result: MethodResult, reference: MethodResult) -> dict[str, Any]:
    """Compare an answer with the reference (brute) answer.

    Distances agree when ``max|dd| / largest reference distance <= EXACT_RTOL``
    (scikit-learn's brute force has absolute rounding error); id sets must be
    equal in every row except for ids at the row's k-th distance (ties).

    Parameters
    ----------
    result, reference : MethodResult

    Returns
    -------
    dict
        ``max_abs_diff``, ``max_rel_diff``, ``id_match_fraction`` (rows with
        equal id sets), ``untied_mismatches`` (rows whose id sets differ by
        more than ties) and ``exact``.
    """
    diff = np.abs(result.distances - reference.distances)
    largest = float(np.abs(reference.distances).max(initial=0.0))
    scale = max(largest, np.finfo(np.float64).tiny)
    max_abs = float(diff.max(initial=0.0))
    tol = EXACT_RTOL * scale
    same = np.all(np.sort(result.ids, axis=1) == np.sort(reference.ids, axis=1), axis=1)
    untied = 0
    for row in np.flatnonzero(~same):
        kth = reference.distances[row, -1]
        ours, theirs = set(result.ids[row].tolist()), set(reference.ids[row].tolist())
        only_ours = np.isin(result.ids[row], list(ours - theirs))
        only_theirs = np.isin(reference.ids[row], list(theirs - ours))
        at_boundary = (np.all(np.abs(result.distances[row, only_ours] - kth) <= tol)
                       and np.all(np.abs(reference.distances[row, only_theirs] - kth) <= tol))
        untied += int(not at_boundary)
    return {"max_abs_diff": max_abs, "max_rel_diff": max_abs / scale,
            "id_match_fraction": float(same.mean()) if same.size else 1.0,
            "untied_mismatches": untied,
            "exact": bool(max_abs / scale <= EXACT_RTOL and untied == 0)}


def ratio(value: float, base: float) -> float | None:
    """``value / base``, or None when ``base`` is not positive."""
    return value / base if base > 0 else None
