"""``covertreex bench metrics``: other metrics beside scikit-learn's BallTree and brute force.

Workloads (issue 11): W1's data (n = 100k standard normal points, d = 3,
10k queries, k = 16) under manhattan, chebyshev and minkowski p = 3; 1M
latitude/longitude points in 200 city-like clusters under haversine (100k
queries, k = 8, and a radius query at 1 km); 200k vectors of d = 64 near a
6-dimensional subspace under cosine (10k queries, k = 10; BallTree does not
serve cosine, so the target is against brute force). Every method runs in
this process, on the same data, with the same thread count (numba threads
for the cover tree; ``n_jobs`` and ``threadpoolctl`` limits for
scikit-learn), after a warm-up on small data (compilation is not timed).
Exactness is the one rule of :mod:`.compare`, against scikit-learn's brute
force (on the first ``--brute-queries`` queries where a full brute force
would take hours).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .compare import EXACT_RTOL, _thread_limits, compare_answers
from .options import add_runtime_flags, positive_float, positive_int, runtime_from_args
from .workloads import PRESETS, make_data

#: Earth's mean radius, km (haversine distances are angles).
EARTH_KM = 6371.0


@dataclasses.dataclass(frozen=True)
class MetricWorkload:
    """One workload: data generator, metric, sizes and the targets' baseline."""

    name: str
    description: str
    metric: str
    metric_params: dict[str, Any]
    n: int
    n_queries: int
    k: int
    data: str
    baseline: str = "ball_tree"
    radius: float | None = None


WORKLOADS = {w.name: w for w in (
    MetricWorkload("manhattan", "W1 data, manhattan", "manhattan", {}, 100_000, 10_000, 16, "w1"),
    MetricWorkload("chebyshev", "W1 data, chebyshev", "chebyshev", {}, 100_000, 10_000, 16, "w1"),
    MetricWorkload("minkowski3", "W1 data, minkowski p=3", "minkowski", {"p": 3}, 100_000,
                   10_000, 16, "w1"),
    MetricWorkload("haversine", "lat/lon in 200 city-like clusters, haversine (+ radius 1 km)",
                   "haversine", {}, 1_000_000, 100_000, 8, "cities", radius=1.0 / EARTH_KM),
    MetricWorkload("cosine", "d=64 near a 6-dim subspace, cosine", "cosine", {}, 200_000,
                   10_000, 10, "subspace", baseline="brute"),
)}


def make_metric_data(w: MetricWorkload, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points and queries of a workload (seeded)."""
    rng = np.random.default_rng([seed, 11, len(w.name)])
    if w.data == "w1":
        base = dataclasses.replace(PRESETS["W1"], n=w.n, n_queries=w.n_queries)
        X, Q = make_data(base, seed)
        assert Q is not None
        return X, Q
    if w.data == "cities":
        n_c = 200
        centre_lat = np.arcsin(rng.uniform(-0.9, 0.9, n_c))
        centre_lon = rng.uniform(-np.pi, np.pi, n_c)
        spread = np.exp(rng.normal(np.log(8.0), 0.6, n_c)) / EARTH_KM  # ~8 km clusters
        weight = rng.pareto(1.2, n_c) + 1.0
        weight /= weight.sum()

        def draw(m: int) -> np.ndarray:
            c = rng.choice(n_c, size=m, p=weight)
            lat = centre_lat[c] + rng.normal(size=m) * spread[c]
            lon = centre_lon[c] + rng.normal(size=m) * spread[c] / np.cos(centre_lat[c])
            lat = np.clip(lat, -np.pi / 2, np.pi / 2)
            lon = (lon + np.pi) % (2 * np.pi) - np.pi
            return np.stack([lat, lon], axis=1)
        return draw(w.n), draw(w.n_queries)
    if w.data == "subspace":
        d, dim = 64, 6
        basis, _ = np.linalg.qr(rng.standard_normal((d, dim)))
        shift = rng.standard_normal(d) * 0.5  # away from the origin: directions differ

        def points(m: int) -> np.ndarray:
            return rng.standard_normal((m, dim)) @ basis.T + shift + \
                0.01 * rng.standard_normal((m, d))
        return points(w.n), points(w.n_queries)
    raise ValueError(f"unknown data {w.data!r}")


def _sklearn(algorithm: str, w: MetricWorkload, X: np.ndarray, Q: np.ndarray, threads: int,
             radius: bool = False) -> dict[str, Any]:
    from sklearn.neighbors import NearestNeighbors

    with _thread_limits(threads):
        params = dict(w.metric_params)
        p = params.pop("p", 2)  # scikit-learn warns when p comes in metric_params
        model = NearestNeighbors(n_neighbors=w.k, algorithm=algorithm, metric=w.metric, p=p,
                                 metric_params=params or None, n_jobs=threads)
        return _timed(model, w, X, Q, radius)


def _timed(model: Any, w: MetricWorkload, X: np.ndarray, Q: np.ndarray,
           radius: bool = True) -> dict[str, Any]:
    """Fit, k-NN and (where the workload has one) radius query, each timed."""
    t0 = time.perf_counter()
    model.fit(X)
    t1 = time.perf_counter()
    d, i = model.kneighbors(Q)
    t2 = time.perf_counter()
    out = {"build_s": t1 - t0, "query_s": t2 - t1, "d": d, "i": i}
    if radius and w.radius is not None:
        t2 = time.perf_counter()
        rd, ri = model.radius_neighbors(Q, radius=w.radius)
        out.update(radius_s=time.perf_counter() - t2, rd=rd, ri=ri)
    return out


def _covertree(w: MetricWorkload, X: np.ndarray, Q: np.ndarray, threads: int,
               runtime: Any) -> dict[str, Any]:
    from ..estimators import CoverTreeNeighbors

    with _thread_limits(threads):
        model = CoverTreeNeighbors(n_neighbors=w.k, metric=w.metric,
                                   metric_params=w.metric_params or None,
                                   backend=runtime.backend,
                                   construction=runtime.construction,
                                   traversal=runtime.traversal,
                                   conflict_graph=runtime.conflict_graph,
                                   batch_order=runtime.batch_order, n_jobs=threads,
                                   random_state=runtime.seed)
        return _timed(model, w, X, Q)


def _radius_exact(rd: Any, ri: Any, ref_d: Any, ref_i: Any, tol: float) -> bool:
    """Same id sets per row, except ids within ``tol`` of the radius boundary."""
    for a_d, a_i, b_d, b_i in zip(rd, ri, ref_d, ref_i, strict=True):
        sa, sb = set(a_i.tolist()), set(b_i.tolist())
        if sa == sb:
            continue
        edge = max(np.max(a_d, initial=0.0), np.max(b_d, initial=0.0))
        only = [(d, j) for d, j in zip(a_d, a_i, strict=True) if j not in sb] + \
               [(d, j) for d, j in zip(b_d, b_i, strict=True) if j not in sa]
        if any(abs(d - edge) > tol for d, _ in only):
            return False
    return True


def run_workload(w: MetricWorkload, seed: int, threads: int, runtime: Any, brute_queries: int,
                 log: Callable[[str], None]) -> dict[str, Any]:
    """Time the cover tree, BallTree (where it serves the metric) and brute force on ``w``."""
    X, Q = make_metric_data(w, seed)
    small = dataclasses.replace(w, n=min(w.n, 2000), n_queries=min(w.n_queries, 200))
    Xs, Qs = make_metric_data(small, seed + 1)
    log(f"[{w.name}] warm-up")
    _covertree(small, Xs, Qs, threads, runtime)
    methods = ["ball_tree", "brute"] if w.baseline == "ball_tree" else ["brute"]
    results: dict[str, dict[str, Any]] = {}
    log(f"[{w.name}] covertree: n={w.n} queries={w.n_queries}")
    results["covertree"] = _covertree(w, X, Q, threads, runtime)
    for method in methods:
        q = Q if method != "brute" else Q[:brute_queries]
        log(f"[{w.name}] {method}: queries={q.shape[0]}")
        results[method] = _sklearn(method, w, X, q, threads, radius=True)
        results[method]["n_queries"] = q.shape[0]
    results["covertree"]["n_queries"] = Q.shape[0]
    ref = results["brute"]
    m = ref["n_queries"]
    tree = results["covertree"]
    exact = compare_answers(tree["d"][:m], tree["i"][:m], ref["d"], ref["i"], EXACT_RTOL)
    radius_ok = None
    if w.radius is not None:
        tol = EXACT_RTOL * max(w.radius, 1e-300) * 10
        radius_ok = _radius_exact(tree["rd"][:m], tree["ri"][:m], ref["rd"], ref["ri"], tol)
    base = results[w.baseline]
    per_q = {k: r["query_s"] / r["n_queries"] for k, r in results.items()}
    row = {
        "workload": w.name, "description": w.description, "metric": w.metric, "n": w.n,
        "queries": w.n_queries, "k": w.k, "threads": threads, "baseline": w.baseline,
        "times": {k: {"build_s": r["build_s"], "query_s": r["query_s"],
                      "n_queries": r["n_queries"], "radius_s": r.get("radius_s")}
                  for k, r in results.items()},
        "exact": bool(exact["exact"] and radius_ok is not False), "radius_exact": radius_ok,
        "query_ratio": per_q["covertree"] / per_q[w.baseline],
        "build_ratio": tree["build_s"] / base["build_s"] if w.baseline == "ball_tree" else None,
        "radius_ratio": (tree["radius_s"] / tree["n_queries"])
        / (base["radius_s"] / base["n_queries"]) if w.radius is not None else None,
    }
    target_q = 0.5 if w.baseline == "ball_tree" else 0.1
    row["targets_met"] = bool(row["query_ratio"] <= target_q
                              and (row["build_ratio"] is None or row["build_ratio"] <= 2.0)
                              and row["exact"])
    return row


def format_rows(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of the results (times for the queries each method ran)."""
    head = (f"{'workload':<11} {'method':<10} {'build s':>8} {'query s':>8} {'queries':>8} "
            f"{'radius s':>9}  ratios (ct/baseline per query, build)  exact  targets")
    lines = [head, "-" * len(head)]
    for row in rows:
        for method, t in row["times"].items():
            radius = "" if t["radius_s"] is None else f"{t['radius_s']:.3f}"
            tail = ""
            if method == "covertree":
                build = "" if row["build_ratio"] is None else f", build {row['build_ratio']:.2f}x"
                rad = "" if row["radius_ratio"] is None else f", radius {row['radius_ratio']:.2f}x"
                tail = (f"  query {row['query_ratio']:.2f}x vs {row['baseline']}{build}{rad}"
                        f"  {row['exact']}  {'met' if row['targets_met'] else 'NOT met'}")
            lines.append(f"{row['workload']:<11} {method:<10} {t['build_s']:8.3f} "
                         f"{t['query_s']:8.3f} {t['n_queries']:8d} {radius:>9}{tail}")
    return "\n".join(lines)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench metrics``."""
    p = subparsers.add_parser(
        "metrics", help="manhattan, chebyshev, minkowski, haversine, cosine vs BallTree/brute",
        description="Time the cover tree beside scikit-learn's BallTree and brute force "
                    "under other metrics (issue 11's workloads).")
    p.add_argument("--workload", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS),
                   help="workloads to run (default: all)")
    p.add_argument("--scale", type=positive_float, default=1.0,
                   help="multiplier of every workload's points and queries (default: 1)")
    p.add_argument("--n", type=positive_int, default=None,
                   help="points (overrides the workload's; queries scale alike)")
    p.add_argument("--brute-queries", type=positive_int, default=1000,
                   help="queries answered by brute force, the exactness reference "
                        "(default: %(default)s)")
    p.add_argument("--json", default=None, metavar="PATH", help="also write the rows as JSON")
    add_runtime_flags(p)
    p.set_defaults(handler=run_metrics)


def run_metrics(args: argparse.Namespace) -> int:
    """Run the chosen workloads; exit status 1 if an answer was not exact."""
    runtime = runtime_from_args(args)
    threads = int(runtime.n_jobs or 1)
    rows = []
    for name in args.workload:
        w = WORKLOADS[name]
        scale = args.scale if args.n is None else args.n / w.n
        w = dataclasses.replace(w, n=max(int(w.n * scale), 4 * w.k),
                                n_queries=max(int(w.n_queries * scale), 10))
        rows.append(run_workload(w, args.seed, threads, runtime, args.brute_queries,
                                 lambda message: print(message, file=sys.stderr, flush=True)))
        print(format_rows(rows[-1:]), flush=True)
    print()
    print(format_rows(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0 if all(r["exact"] for r in rows) else 1
