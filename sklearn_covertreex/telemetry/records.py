"""Builders of telemetry records (plain dicts matching :mod:`.schemas`)."""

from __future__ import annotations

import dataclasses
import os
import platform
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from .schemas import SCHEMA_VERSION

#: Phases of a build's ``diagnostics["seconds"]``, in the order they run.
BUILD_PHASES: tuple[str, ...] = ("order", "construct", "traverse", "conflict", "mis", "attach",
                                 "relevel", "finalize")

#: Counters of a build's diagnostics copied into every ``build_phase`` record.
BUILD_COUNTERS: tuple[str, ...] = ("batches", "rounds", "conflict_edges", "max_conflict_degree",
                                   "mis_rounds", "duplicates", "n_levels")


def new_run_id() -> str:
    """A fresh identifier shared by the records of one run."""
    return uuid.uuid4().hex


def utc_timestamp() -> str:
    """The current UTC time in ISO 8601 (seconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def base_record(schema: str, run_id: str) -> dict[str, Any]:
    """The keys every record has: schema, version, run id and timestamp.

    Parameters
    ----------
    schema : str
        Event name (a key of :data:`~.schemas.SCHEMAS`).
    run_id : str
        Identifier of the run (see :func:`new_run_id`).

    Returns
    -------
    dict
    """
    return {"schema": schema, "schema_version": SCHEMA_VERSION, "run_id": run_id,
            "timestamp": utc_timestamp()}


def runtime_fields(runtime: Any) -> dict[str, Any]:
    """The fields of a :class:`~sklearn_covertreex.Runtime` as a plain dict."""
    return dataclasses.asdict(runtime)


def machine_info(threads: int) -> dict[str, Any]:
    """Versions and hardware facts stored in ``benchmark_run`` records.

    Parameters
    ----------
    threads : int
        Thread count used by every method of the run.

    Returns
    -------
    dict
    """
    import numba
    import numpy
    import sklearn

    from .. import __version__

    return {"cpu_count": os.cpu_count(), "processor": platform.processor(),
            "platform": platform.platform(), "python": platform.python_version(),
            "numpy": numpy.__version__, "sklearn": sklearn.__version__,
            "numba": numba.__version__, "sklearn_covertreex": __version__,
            "threads": threads}


def build_phase_records(diagnostics: Mapping[str, Any], *, run_id: str, workload: str, n: int,
                        d: int, runtime: Any) -> list[dict[str, Any]]:
    """One ``build_phase`` record per phase of a build's diagnostics.

    Parameters
    ----------
    diagnostics : mapping
        ``CoverTree.diagnostics`` of a tree built with ``Runtime(diagnostics=True)``:
        counters ``batches, rounds, duplicates, conflict_edges,
        max_conflict_degree, mis_rounds, n_levels`` and ``seconds`` per phase.
    run_id : str
        Identifier of the run.
    workload : str
        Name of the workload.
    n, d : int
        Number and dimension of the points built on.
    runtime : Runtime
        The build's runtime.

    Returns
    -------
    list of dict
        In phase order; every record carries the build's counters (totals).

    Raises
    ------
    ValueError
        If ``diagnostics`` lacks a counter or the ``seconds`` table.
    """
    missing = [key for key in (*BUILD_COUNTERS, "seconds") if key not in diagnostics]
    if missing:
        raise ValueError(f"build diagnostics lack {missing}; build with Runtime(diagnostics=True)")
    counters = {key: int(diagnostics[key]) for key in BUILD_COUNTERS}
    seconds = diagnostics["seconds"]
    phases = [p for p in BUILD_PHASES if p in seconds]
    phases += [p for p in seconds if p not in BUILD_PHASES]
    fields = runtime_fields(runtime)
    return [{**base_record("build_phase", run_id), "workload": workload, "n": int(n), "d": int(d),
             "phase": str(phase), "seconds": float(seconds[phase]), **counters,
             "runtime": fields}
            for phase in phases]


def query_batch_record(*, run_id: str, workload: str, n_queries: int, k: int, threads: int,
                       seconds: float, evaluations: Any = None,
                       pruned: Any = None) -> dict[str, Any]:
    """A ``query_batch`` record.

    Parameters
    ----------
    run_id, workload : str
    n_queries, k, threads : int
    seconds : float
        Wall-clock time of the batch.
    evaluations : array-like of int, optional
        Distance evaluations per query; ``None`` when they were not counted.
    pruned : array-like of int, optional
        Tree nodes pruned per query (adds ``pruned_nodes_total`` and
        ``pruned_nodes_mean``, optional keys of the schema).

    Returns
    -------
    dict
    """
    total = mean = None
    if evaluations is not None:
        import numpy as np

        evals = np.asarray(evaluations, dtype=np.int64)
        total = int(evals.sum())
        mean = float(evals.mean()) if evals.size else 0.0
    record = {**base_record("query_batch", run_id), "workload": workload,
              "n_queries": int(n_queries), "k": int(k), "threads": int(threads),
              "seconds": float(seconds), "distance_evaluations_total": total,
              "distance_evaluations_mean": mean}
    if pruned is not None:
        import numpy as np

        pr = np.asarray(pruned, dtype=np.int64)
        record["pruned_nodes_total"] = int(pr.sum())
        record["pruned_nodes_mean"] = float(pr.mean()) if pr.size else 0.0
    return record
