"""Time the cover tree beside scikit-learn's kd_tree, ball_tree, brute and scipy's cKDTree.

Shared by ``covertreex demo`` and ``covertreex bench`` (and the scripts in
``benchmarks/``, which call them): every method runs in this process, on the
same data, with the same thread count (numba threads for the cover tree;
``n_jobs`` and ``threadpoolctl`` limits for scikit-learn; ``workers`` for
scipy's ``cKDTree``).

Exactness (the one rule of every benchmark, :func:`exactness`): an answer is
*exact* when, against the reference answer (scikit-learn's brute force, its
distances recomputed from coordinate differences by :func:`exact_distances`;
or kd_tree in ``bench scaling``),

* its distances differ by at most ``rtol`` times the largest reference
  distance (``EXACT_RTOL = 1e-10`` for Euclidean distances: an elementwise
  ratio would flag tiny distances whose rounding is absolute;
  ``residual_bench.RESIDUAL_RTOL`` for the residual correlation, whose
  ``1 - |rho|`` carries float64 rounding that ``sqrt`` magnifies near 0), and
* every row holds the same ids, except ids whose distance ties the row's
  k-th reference distance within that tolerance (either answer may keep any
  of them).

Padded entries (infinite distance, id -1) must sit at the same places.
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
#: scipy's k-d tree (``scipy.spatial.cKDTree``, queried with ``workers`` threads).
CKDTREE = "ckdtree"
#: Every method the cover tree is compared with, in table order.
BASELINE_METHODS: tuple[str, ...] = (*SKLEARN_METHODS, CKDTREE)
COVERTREE = "covertree"
REFERENCE = "brute"
#: Largest |distance difference| / largest reference distance still called exact
#: (Euclidean distances; see :func:`compare_answers`).
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


def run_method(method: str, X: np.ndarray, Q: np.ndarray | None, k: int, runtime: Runtime, *,
               progress: Callable[[int], object] | None = None,
               evaluations: bool = True) -> MethodResult:
    """Build and query with one method: the cover tree or a scikit-learn algorithm.

    Parameters
    ----------
    method : str
        ``"covertree"`` or one of :data:`BASELINE_METHODS`.
    X, Q, k, runtime, progress, evaluations
        As in :func:`run_covertree` (scikit-learn uses ``runtime.n_jobs``
        threads and ignores ``progress`` and ``evaluations``).

    Returns
    -------
    MethodResult
    """
    if method == COVERTREE:
        return run_covertree(X, Q, k, runtime, progress=progress, evaluations=evaluations)
    try:
        runner = BASELINE_RUNNERS[method]
    except KeyError:
        raise ValueError(f"unknown method {method!r}; valid: "
                         + ", ".join(map(repr, (COVERTREE, *BASELINE_RUNNERS)))) from None
    return runner(method, X, Q, k, runtime.n_jobs or 1)


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
    if algorithm == REFERENCE:
        dist, ids = exact_distances(X, Q, ids)
    return MethodResult(algorithm, t1 - t0, t2 - t1, dist, ids)


#: Query rows per block of :func:`exact_distances` (bounds its temporaries).
_EXACT_BLOCK = 8192


def exact_distances(X: np.ndarray, Q: np.ndarray | None,
                    ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distances of an answer recomputed from coordinate differences, rows re-sorted.

    scikit-learn's brute force computes ``sqrt(|x|^2 - 2 x.y + |y|^2)``,
    whose rounding error is about ``eps * |x|^2`` whatever the distance: on
    n = 1M points in [0, 1]^2 it was 4.3e-9 of the largest 8-th neighbour
    distance, more than the rule's ``EXACT_RTOL``. The reference therefore
    keeps the brute force's ids and takes their distances from the
    coordinate differences, each row sorted by (distance, id).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    Q : ndarray of shape (m, d) or None
        ``None``: the queries are the rows of ``X``.
    ids : ndarray of shape (m, k)

    Returns
    -------
    (distances, ids) : ndarrays of shape (m, k)
    """
    rows = X if Q is None else Q
    ids = np.asarray(ids)
    dist = np.empty(ids.shape, dtype=np.float64)
    for lo in range(0, ids.shape[0], _EXACT_BLOCK):
        block = ids[lo : lo + _EXACT_BLOCK]
        diff = X[block] - rows[lo : lo + _EXACT_BLOCK, None, :]
        dist[lo : lo + _EXACT_BLOCK] = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    order = np.lexsort((ids, dist))
    return np.take_along_axis(dist, order, axis=1), np.take_along_axis(ids, order, axis=1)


def run_ckdtree(method: str, X: np.ndarray, Q: np.ndarray | None, k: int,
                threads: int) -> MethodResult:
    """Build ``scipy.spatial.cKDTree`` on ``X`` and query it with ``workers=threads``.

    Parameters
    ----------
    method : str
        The name recorded (:data:`CKDTREE`).
    X : ndarray of shape (n, d)
    Q : ndarray of shape (m, d) or None
        ``None``: each point's k nearest others (``k + 1`` queried, self dropped
        as ``kneighbors()`` drops it).
    k : int
    threads : int

    Returns
    -------
    MethodResult
    """
    from scipy.spatial import cKDTree

    with _thread_limits(threads):
        t0 = time.perf_counter()
        tree = cKDTree(X)
        t1 = time.perf_counter()
        rows = X if Q is None else Q
        kk = k + 1 if Q is None else k
        dist, ids = tree.query(rows, k=kk, workers=threads)
        dist = np.asarray(dist, dtype=np.float64).reshape(rows.shape[0], kk)
        ids = np.asarray(ids, dtype=np.intp).reshape(rows.shape[0], kk)
        if Q is None:
            dist, ids = drop_self(dist, ids)
        t2 = time.perf_counter()
    return MethodResult(method, t1 - t0, t2 - t1, dist, ids)


#: Baseline method name -> ``runner(method, X, Q, k, threads) -> MethodResult``.
BASELINE_RUNNERS: dict[str, Callable[..., MethodResult]] = {
    **{name: lambda method, X, Q, k, threads: run_sklearn(method, X, Q, k, threads)
       for name in SKLEARN_METHODS},
    CKDTREE: run_ckdtree,
}


def warm_up(runtime: Runtime, d: int, k: int, methods: Sequence[str]) -> None:
    """Run every method once on tiny data so compilation and imports are not timed."""
    rng = np.random.default_rng(12345)
    X = rng.standard_normal((max(_WARMUP_POINTS, 2 * k + 2), d))
    Q = X[: min(64, X.shape[0])] + 0.01
    for method in methods:
        run_method(method, X, Q, k, runtime)
        run_method(method, X, None, k, runtime)


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
    warm_up(runtime, X.shape[1], k, methods)
    results: dict[str, MethodResult] = {}
    for method in methods:
        best: MethodResult | None = None
        for rep in range(repeats):
            log(f"{method}: run {rep + 1}/{repeats}")
            gc.collect()
            bar = progress and method == COVERTREE
            with progress_bar(X.shape[0], "cover tree build", bar) as update:
                result = run_method(method, X, Q, k, runtime, progress=update,
                                    evaluations=rep == repeats - 1)
            if best is not None:
                result.build_s = min(result.build_s, best.build_s)
                result.query_s = min(result.query_s, best.query_s)
            best = result
        assert best is not None
        results[method] = best
    return results


def compare_answers(distances: np.ndarray, ids: np.ndarray, ref_distances: np.ndarray,
                    ref_ids: np.ndarray, rtol: float = EXACT_RTOL) -> dict[str, Any]:
    """The exactness rule of every benchmark (see the module docstring), on arrays.

    Parameters
    ----------
    distances, ids : ndarray of shape (rows, k)
        The answer checked; rows sorted ascending, padding ``inf`` / ``-1``.
    ref_distances, ref_ids : ndarray of shape (rows, k)
        The reference answer, in the same layout.
    rtol : float, default=EXACT_RTOL
        Tolerance on distances, relative to the largest finite reference distance.

    Returns
    -------
    dict
        ``max_abs_diff`` and ``max_rel_diff`` (over entries finite in both),
        ``id_match_fraction`` (rows with equal id sets), ``untied_mismatches``
        (rows whose id sets differ by more than ties at the k-th distance),
        ``padding_match`` (non-finite distances at the same places) and
        ``exact``.
    """
    distances = np.asarray(distances, dtype=np.float64)
    ref_distances = np.asarray(ref_distances, dtype=np.float64)
    ids, ref_ids = np.asarray(ids), np.asarray(ref_ids)
    if distances.shape != ref_distances.shape or ids.shape != ref_ids.shape:
        raise ValueError(f"answers of different shapes: {distances.shape} and "
                         f"{ref_distances.shape}")
    finite, ref_finite = np.isfinite(distances), np.isfinite(ref_distances)
    padding_match = bool(np.array_equal(finite, ref_finite))
    both = finite & ref_finite
    diff = np.abs(np.where(both, distances, 0.0) - np.where(both, ref_distances, 0.0))
    largest = float(np.abs(ref_distances[ref_finite]).max(initial=0.0))
    scale = max(largest, np.finfo(np.float64).tiny)
    max_abs = float(diff.max(initial=0.0))
    tol = rtol * scale
    same = np.all(np.sort(ids, axis=1) == np.sort(ref_ids, axis=1), axis=1)
    untied = 0
    for row in np.flatnonzero(~same):
        kth = ref_distances[row, -1]
        ours, theirs = set(ids[row].tolist()), set(ref_ids[row].tolist())
        only_ours = np.isin(ids[row], list(ours - theirs))
        only_theirs = np.isin(ref_ids[row], list(theirs - ours))
        at_boundary = (np.all(np.abs(distances[row, only_ours] - kth) <= tol)
                       and np.all(np.abs(ref_distances[row, only_theirs] - kth) <= tol))
        untied += int(not at_boundary)
    return {"max_abs_diff": max_abs, "max_rel_diff": max_abs / scale,
            "id_match_fraction": float(same.mean()) if same.size else 1.0,
            "untied_mismatches": untied, "padding_match": padding_match,
            "exact": bool(max_abs <= tol and untied == 0 and padding_match)}


def exactness(result: MethodResult, reference: MethodResult,
              rtol: float = EXACT_RTOL) -> dict[str, Any]:
    """Compare an answer with the reference answer by :func:`compare_answers`.

    Parameters
    ----------
    result, reference : MethodResult
    rtol : float, default=EXACT_RTOL

    Returns
    -------
    dict
        See :func:`compare_answers`.
    """
    return compare_answers(result.distances, result.ids, reference.distances, reference.ids,
                           rtol)


def ratio(value: float, base: float) -> float | None:
    """``value / base``, or None when ``base`` is not positive."""
    return value / base if base > 0 else None
