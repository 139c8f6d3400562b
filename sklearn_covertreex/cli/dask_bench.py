"""``covertreex bench dask``: the Dask-sharded index beside one process, at equal cores.

Euclidean part (the issue's workload; sizes are flags): ``--n`` standard
normal points in ``--d`` dimensions, ``--queries`` queries, ``--k``
neighbours. The single process (:class:`~sklearn_covertreex.CoverTreeNeighbors`
with ``--single-threads`` threads) runs in a fresh child process, so its
peak memory is its own; each cluster is a ``LocalCluster`` of ``W``
single-threaded worker processes (``--workers``, one run per count) holding
``W`` shards. Reported: build and query seconds, each worker's peak
resident memory, and the bytes the workers sent during the query (to each
other and the merged answers to the client: ``distributed``'s
``transfer_outgoing_bytes_total``, "sent") beside the query blocks' bytes
("blocks": the client sends each block to every shard inside its task).

Residual part (``--residual-n``, 0 skips it): the gold workload of ``bench
residual`` (m = 512 random inducing points, RBF(1), k = 50) at that N, fit +
all-points ``kneighbors()`` and ``vecchia_neighbors()``, sharded and single.

The data are generated in fixed blocks seeded by ``(seed, block)``, on the
workers for the cluster (the client never holds the reference data) and in
the child for the single process: both see the same rows. Every sharded
answer is compared with the single-process one: ``identical`` (bit for bit)
and ``exact`` (the one rule of :mod:`.compare`).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import sys
import time
from typing import Any

import numpy as np

from ..telemetry import JsonlWriter, base_record, default_artifacts_dir, machine_info, new_run_id
from .checks import check_memory, check_output_file, require_module
from .compare import EXACT_RTOL, compare_answers
from .options import positive_int
from .residual_bench import RESIDUAL_RTOL

#: Rows per generated block (fixed, so every sharding sees the same data).
GEN_ROWS = 250_000
#: Residual gold workload (``bench residual --preset gold``), but N.
GOLD = {"m": 512, "k": 50, "d": 3, "length_scale": 1.0}


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``bench dask``."""
    p = sub.add_parser("dask", help="the Dask-sharded index beside one process",
                       description="Build and query DaskCoverTreeNeighbors on LocalClusters "
                                   "of single-threaded workers beside CoverTreeNeighbors in "
                                   "one process (and the residual gold workload).")
    p.add_argument("--n", type=positive_int, default=10_000_000, help="points (default: 10M)")
    p.add_argument("--d", type=positive_int, default=3, help="dimension (default: 3)")
    p.add_argument("--queries", type=positive_int, default=100_000,
                   help="queries (default: 100k)")
    p.add_argument("--k", type=positive_int, default=16, help="neighbours (default: 16)")
    p.add_argument("--workers", type=positive_int, nargs="+", default=[1, 2],
                   help="worker counts, one LocalCluster each (default: 1 2)")
    p.add_argument("--single-threads", type=positive_int, default=2,
                   help="threads of the single process (default: 2)")
    p.add_argument("--residual-n", type=int, default=131_072,
                   help="N of the residual gold workload; 0 skips it (default: 131072)")
    p.add_argument("--seed", type=int, default=0, help="data seed (default: 0)")
    p.add_argument("--out", default=None, metavar="PATH",
                   help="JSONL records file (default: artifacts/benchmarks/bench_dask.jsonl)")
    p.set_defaults(handler=run_dask)


# ----------------------------------------------------------------------- data
def block_sizes(n: int) -> list[int]:
    """Rows of the generated blocks of ``n`` points."""
    full, rest = divmod(n, GEN_ROWS)
    return [GEN_ROWS] * full + ([rest] if rest else [])


def gen_block(seed: int, j: int, rows: int, d: int) -> np.ndarray:
    """Block ``j`` of the data: standard normal, seeded by ``(seed, j)``."""
    return np.random.default_rng([seed, j]).standard_normal((rows, d))


def local_points(n: int, d: int, seed: int) -> np.ndarray:
    """All the points, in memory."""
    return np.concatenate([gen_block(seed, j, r, d) for j, r in enumerate(block_sizes(n))])


def dask_points(n: int, d: int, seed: int, shards: int) -> Any:
    """The same points as a dask array generated on the workers, ``shards`` row chunks."""
    import dask.array as da
    from dask import delayed

    from ..dask.partition import split_sizes

    blocks = [da.from_delayed(delayed(gen_block, pure=True)(seed, j, r, d), (r, d), np.float64)
              for j, r in enumerate(block_sizes(n))]
    return da.concatenate(blocks).rechunk({0: split_sizes(n, shards)})


def queries(n_queries: int, d: int, seed: int) -> np.ndarray:
    """The query points (another seed)."""
    return np.random.default_rng([seed, 10**6]).standard_normal((n_queries, d))


def _peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _gold_kernel():
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel

    return ConstantKernel(1.0) * RBF(GOLD["length_scale"])


# ----------------------------------------------------------- single process
def single_process(kind: str, n: int, d: int, k: int, n_queries: int, seed: int,
                   threads: int) -> dict[str, Any]:
    """Build and query in this (fresh) process; timings, peak memory and the answers."""
    if kind == "euclidean":
        from ..estimators import CoverTreeNeighbors

        warm = np.random.default_rng(1).normal(size=(5000, d))
        CoverTreeNeighbors(n_neighbors=k, n_jobs=threads).fit(warm).kneighbors(warm[:100])
        X, Q = local_points(n, d, seed), queries(n_queries, d, seed)
        t0 = time.perf_counter()
        est = CoverTreeNeighbors(n_neighbors=k, n_jobs=threads).fit(X)
        t1 = time.perf_counter()
        answers = {"kneighbors": est.kneighbors(Q)}
        times = {"kneighbors": time.perf_counter() - t1}
    else:
        from ..estimators import ResidualCoverTreeNeighbors

        def make(m: int) -> Any:
            return ResidualCoverTreeNeighbors(n_neighbors=k, kernel=_gold_kernel(),
                                              inducing_points=m, random_state=seed,
                                              n_jobs=threads)
        warm = np.random.default_rng(1).normal(size=(3000, d))
        w = make(64).fit(warm)
        w.kneighbors(), w.vecchia_neighbors()
        X = local_points(n, d, seed)
        t0 = time.perf_counter()
        est = make(GOLD["m"]).fit(X)
        t1 = time.perf_counter()
        answers, times = {}, {}
        for query, call in (("kneighbors", lambda: est.kneighbors()),
                            ("vecchia", lambda: est.vecchia_neighbors(return_distance=True))):
            s = time.perf_counter()
            answers[query] = call()
            times[query] = time.perf_counter() - s
    return {"build_seconds": t1 - t0, "query_seconds": times, "answers": answers,
            "peak_mib": [_peak_rss_mib()]}


def run_single(*args: Any) -> dict[str, Any]:
    """:func:`single_process` in a fresh child process (its peak memory is its own)."""
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        return pool.submit(single_process, *args).result()


# ------------------------------------------------------------------ cluster
def _sent_bytes(client: Any) -> int:
    """Bytes all workers have sent to other workers so far."""
    sent = client.run(lambda dask_worker: int(dask_worker.transfer_outgoing_bytes_total))
    return int(sum(sent.values()))


def run_cluster(kind: str, workers: int, n: int, d: int, k: int, n_queries: int,
                seed: int) -> dict[str, Any]:
    """Build and query the sharded index on a fresh LocalCluster of ``workers`` processes."""
    import dask
    from distributed import Client, LocalCluster, wait

    from ..dask import DaskCoverTreeNeighbors, DaskResidualNeighbors

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      memory_limit=0, dashboard_address=":0", silence_logs=40) as cluster, \
            Client(cluster) as client:
        warm = np.random.default_rng(1).normal(size=(5000, d))
        if kind == "euclidean":
            DaskCoverTreeNeighbors(n_neighbors=k, n_shards=workers).fit(warm).kneighbors(
                warm[:100])
        else:
            w = DaskResidualNeighbors(n_neighbors=k, kernel=_gold_kernel(), inducing_points=64,
                                      n_shards=workers).fit(warm[:3000])
            w.kneighbors(), w.vecchia_neighbors()
        X = client.persist(dask_points(n, d, seed, workers))
        wait(X)
        t0 = time.perf_counter()
        if kind == "euclidean":
            est = DaskCoverTreeNeighbors(n_neighbors=k).fit(X)
        else:
            est = DaskResidualNeighbors(n_neighbors=k, kernel=_gold_kernel(),
                                        inducing_points=GOLD["m"], random_state=seed).fit(X)
        build = time.perf_counter() - t0
        del X  # the shards hold their rows
        answers, times, sent = {}, {}, {}
        if kind == "euclidean":
            calls = {"kneighbors": lambda: est.kneighbors(queries(n_queries, d, seed))}
        else:
            calls = {"kneighbors": lambda: dask.compute(*est.kneighbors()),
                     "vecchia": lambda: dask.compute(*est.vecchia_neighbors(
                         return_distance=True))}
        for query, call in calls.items():
            before = _sent_bytes(client)
            s = time.perf_counter()
            answers[query] = call()
            times[query] = time.perf_counter() - s
            sent[query] = _sent_bytes(client) - before
        from ..dask.shard import peak_rss_mib

        peaks = sorted(client.run(peak_rss_mib).values())
        return {"build_seconds": build, "query_seconds": times, "answers": answers,
                "peak_mib": peaks, "sent_bytes": sent, "shards": len(est.shards_)}


# --------------------------------------------------------------------- run
def _rows(kind: str, method: str, workers: int, result: dict[str, Any],
          reference: dict[str, Any] | None, sizes: dict[str, int]) -> list[dict[str, Any]]:
    rows = []
    for query, seconds in result["query_seconds"].items():
        got = result["answers"][query]
        identical = exact = None
        if reference is not None:
            ref = reference["answers"][query]
            identical = bool(np.array_equal(got[0], ref[0]) and np.array_equal(got[1], ref[1]))
            rtol = EXACT_RTOL if kind == "euclidean" else RESIDUAL_RTOL
            exact = bool(compare_answers(got[0], got[1], ref[0], ref[1], rtol)["exact"])
        n_q = sizes["n_queries"] if query == "kneighbors" and kind == "euclidean" \
            else sizes["n"]
        block_bytes = 8 * n_q * sizes["d"] * max(1, workers if method == "dask" else 0)
        rows.append({"workload": kind, "method": method, "query": query, "workers": workers,
                     **sizes, "n_queries": n_q, "build_seconds": result["build_seconds"],
                     "query_seconds": seconds,
                     "peak_memory_mib": [float(p) for p in result["peak_mib"]],
                     "worker_transfer_bytes": result.get("sent_bytes", {}).get(query),
                     "query_block_bytes": block_bytes if method == "dask" else None,
                     "identical": identical, "exact": exact})
    return rows


def _format(rows: list[dict[str, Any]]) -> str:
    head = (f"{'workload':9} {'query':10} {'method':7} {'W':>2} {'build s':>8} {'query s':>8} "
            f"{'peak MiB (each)':>20} {'sent MiB':>8} {'blocks MiB':>10} {'identical':>9} "
            f"{'exact':>6}")
    lines = [head, "-" * len(head)]
    for r in rows:
        peaks = "/".join(f"{p:.0f}" for p in r["peak_memory_mib"])
        w2w, blk = (("" if r[key] is None else f"{r[key] / 2**20:.1f}")
                    for key in ("worker_transfer_bytes", "query_block_bytes"))
        lines.append(f"{r['workload']:9} {r['query']:10} {r['method']:7} {r['workers']:2d} "
                     f"{r['build_seconds']:8.2f} {r['query_seconds']:8.2f} {peaks:>20} "
                     f"{w2w:>8} {blk:>10} {str(r['identical']):>9} {str(r['exact']):>6}")
    return "\n".join(lines)


def run_dask(args: argparse.Namespace) -> int:
    """Run the Euclidean (and residual) workloads; exit status 1 if an answer differs."""
    require_module("distributed", "dask", "covertreex bench dask")
    if args.k > args.n:
        from .errors import CliError

        raise CliError(f"k={args.k} is too large for n={args.n} points")
    check_memory(2 * (8.0 * args.n * args.d * 3 + 128.0 * args.n), f"bench dask (n={args.n})")
    out = check_output_file(default_artifacts_dir() / "bench_dask.jsonl" if args.out is None
                            else args.out, "--out")
    work = [("euclidean", args.n, args.d, args.k, args.queries)]
    if args.residual_n > 0:
        work.append(("residual", args.residual_n, GOLD["d"], GOLD["k"], args.residual_n))
    run_id, rows, status = new_run_id(), [], 0
    for kind, n, d, k, n_q in work:
        sizes = {"n": n, "d": d, "k": k, "n_queries": n_q}
        log = lambda message, kind=kind: print(f"[{kind}] {message}", file=sys.stderr,  # noqa: E731
                                               flush=True)
        log(f"single process, {args.single_threads} threads, n={n}")
        single = run_single(kind, n, d, k, n_q, args.seed, args.single_threads)
        rows += _rows(kind, "single", args.single_threads, single, None, sizes)
        for w in args.workers:
            log(f"LocalCluster of {w} single-threaded workers")
            result = run_cluster(kind, w, n, d, k, n_q, args.seed)
            new = _rows(kind, "dask", w, result, single, sizes)
            status = max(status, int(any(r["exact"] is False for r in new)))
            rows += new
    print(_format(rows))
    machine = machine_info(args.single_threads)
    with JsonlWriter(out) as writer:
        for r in rows:
            writer.write({**base_record("dask_run", run_id), **r, "machine": machine})
    print(f"records appended to {out}")
    return status
