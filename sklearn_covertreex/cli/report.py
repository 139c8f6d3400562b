"""Turn comparison results into telemetry records and a printed table."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..runtime import Runtime
from ..telemetry import (
    JsonlWriter,
    base_record,
    build_phase_records,
    machine_info,
    query_batch_record,
    runtime_fields,
)
from .compare import BASELINE_METHODS, COVERTREE, REFERENCE, MethodResult, exactness, ratio


@dataclasses.dataclass(frozen=True)
class RunInfo:
    """What was run: workload shape and settings shared by all methods.

    Parameters
    ----------
    run_id : str
    workload : str
        Name (``"demo"``, ``"W1"`` ...).
    description : str
        One-line description printed above the table.
    n, d, k, n_queries : int
        ``n_queries`` equals ``n`` for all-points workloads.
    threads, repeats : int
    runtime : Runtime
    """

    run_id: str
    workload: str
    description: str
    n: int
    d: int
    k: int
    n_queries: int
    threads: int
    repeats: int
    runtime: Runtime


def compute_exactness(results: Mapping[str, MethodResult]) -> dict[str, dict[str, Any]]:
    """Exactness of every non-reference method against brute (empty without brute)."""
    if REFERENCE not in results:
        return {}
    return {m: exactness(r, results[REFERENCE]) for m, r in results.items() if m != REFERENCE}


def benchmark_records(info: RunInfo, results: Mapping[str, MethodResult],
                      exact: Mapping[str, dict[str, Any]],
                      memory: Mapping[str, float] | None = None) -> list[dict[str, Any]]:
    """``benchmark_run`` records (one per method), then the cover tree's build and query records.

    Parameters
    ----------
    info : RunInfo
    results : mapping
        ``method -> MethodResult``.
    exact : mapping
        Output of :func:`compute_exactness`.
    memory : mapping, optional
        ``method -> peak MiB`` of build + query; adds the optional key
        ``peak_memory_mib`` to every ``benchmark_run`` record.

    Returns
    -------
    list of dict
    """
    machine = machine_info(info.threads)
    records: list[dict[str, Any]] = []
    for method, result in results.items():
        rec: dict[str, Any] = {
            **base_record("benchmark_run", info.run_id), "workload": info.workload,
            "method": method, "n": info.n, "d": info.d, "k": info.k,
            "n_queries": info.n_queries, "threads": info.threads, "repeats": info.repeats,
            "build_seconds": result.build_s, "query_seconds": result.query_s,
        }
        for base in BASELINE_METHODS:
            other = results.get(base)
            rec[f"build_ratio_vs_{base}"] = None if other is None else ratio(result.build_s,
                                                                             other.build_s)
            rec[f"query_ratio_vs_{base}"] = None if other is None else ratio(result.query_s,
                                                                             other.query_s)
        check = exact.get(method)
        if method == REFERENCE:
            check = {"exact": True, "max_abs_diff": 0.0, "max_rel_diff": 0.0,
                     "id_match_fraction": 1.0}
        for key in ("exact", "max_abs_diff", "max_rel_diff", "id_match_fraction"):
            rec[key] = None if check is None else check[key]
        if memory is not None:
            rec["peak_memory_mib"] = memory.get(method)
        rec["machine"] = machine
        rec["runtime"] = runtime_fields(info.runtime) if method == COVERTREE else None
        records.append(rec)
    tree = results.get(COVERTREE)
    if tree is not None:
        if tree.diagnostics is not None:
            records += build_phase_records(tree.diagnostics, run_id=info.run_id,
                                           workload=info.workload, n=info.n, d=info.d,
                                           runtime=info.runtime)
        records.append(query_batch_record(run_id=info.run_id, workload=info.workload,
                                          n_queries=info.n_queries, k=info.k,
                                          threads=info.threads, seconds=tree.query_s,
                                          evaluations=tree.evaluations, pruned=tree.pruned))
    return records


def write_records(path: str | Path, records: list[dict[str, Any]]) -> Path:
    """Append ``records`` to the JSONL file ``path`` (validated); return the path."""
    with JsonlWriter(path) as out:
        out.write_all(records)
    return Path(path)


def _mib_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _exact_text(method: str, check: Mapping[str, Any] | None) -> str:
    if method == REFERENCE:
        return "reference"
    if check is None:
        return "-"
    verdict = "yes" if check["exact"] else "NO"
    return (f"{verdict} (rel {check['max_rel_diff']:.1e}, ids "
            f"{100.0 * check['id_match_fraction']:.2f}%, untied diffs "
            f"{check['untied_mismatches']})")


def format_table(info: RunInfo, results: Mapping[str, MethodResult],
                 exact: Mapping[str, dict[str, Any]],
                 memory: Mapping[str, float] | None = None) -> str:
    """Plain-text table: times, cover tree / method ratios, peak memory, exactness.

    Parameters
    ----------
    info : RunInfo
    results : mapping
    exact : mapping
    memory : mapping, optional
        ``method -> peak MiB`` of build + query (a ``peak MiB`` column).

    Returns
    -------
    str
    """
    rt = info.runtime
    lines = [
        f"{info.workload}: {info.description}; n={info.n} d={info.d} "
        f"queries={info.n_queries} k={info.k} threads={info.threads} repeats={info.repeats}",
        f"cover tree: backend={rt.backend} construction={rt.construction} "
        f"traversal={rt.traversal} "
        f"conflict_graph={rt.conflict_graph} batch_order={rt.batch_order} seed={rt.seed}",
    ]
    mem_head = "" if memory is None else f" {'peak MiB':>9}"
    head = (f"{'method':<10} {'build s':>9} {'query s':>9} {'ct/this build':>14} "
            f"{'ct/this query':>14}{mem_head}  exact vs brute")
    lines += [head, "-" * len(head)]
    tree = results.get(COVERTREE)
    for method, result in results.items():
        if tree is None or method == COVERTREE:
            rb = rq = "-"
        else:
            b, q = ratio(tree.build_s, result.build_s), ratio(tree.query_s, result.query_s)
            rb = "-" if b is None else f"{b:.2f}x"
            rq = "-" if q is None else f"{q:.2f}x"
        mem = "" if memory is None else f" {_mib_text(memory.get(method)):>9}"
        lines.append(f"{method:<10} {result.build_s:>9.3f} {result.query_s:>9.3f} {rb:>14} "
                     f"{rq:>14}{mem}  {_exact_text(method, exact.get(method))}")
    if tree is not None and tree.diagnostics:
        diag = tree.diagnostics
        phases = " ".join(f"{p}={float(s):.3f}" for p, s in diag.get("seconds", {}).items())
        counters = " ".join(f"{key}={diag[key]}" for key in
                            ("batches", "rounds", "conflict_edges", "max_conflict_degree",
                             "mis_rounds", "duplicates", "n_levels") if key in diag)
        lines.append(f"cover tree build phases (s): {phases}")
        lines.append(f"cover tree build counters: {counters}")
    if tree is not None and tree.evaluations is not None and tree.evaluations.size:
        lines.append(f"cover tree distance evaluations per query: "
                     f"mean {tree.evaluations.mean():.1f}, max {int(tree.evaluations.max())}")
        if tree.pruned is not None:
            lines.append(f"cover tree nodes pruned per query: mean {tree.pruned.mean():.1f}")
    lines.append("ct/this = cover tree time / this method's time (below 1: the cover tree "
                 "is faster)")
    if memory is not None:
        lines.append("peak MiB = peak RSS of build + query above the RSS before it, in a fresh "
                     "process per method")
    return "\n".join(lines)
