"""Versioned schemas of the JSONL telemetry records, and their validator.

Every record is a flat JSON object carrying ``"schema"`` (the event name) and
``"schema_version"``; a schema lists the other required keys and the Python
types their values may have after a JSON round trip, and optional keys whose
type is checked when they are present. Other extra keys are allowed (readers
ignore what they do not know). Schemas are read-only mappings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

#: Version written in every record; bump when a required key changes meaning.
SCHEMA_VERSION = 1

_NONE = type(None)
_NUM = (int, float)
_OPT_NUM = (int, float, _NONE)

#: Keys every event has, whatever its schema.
COMMON_KEYS: Mapping[str, tuple[type, ...]] = MappingProxyType({
    "schema": (str,),
    "schema_version": (int,),
    "run_id": (str,),
    "timestamp": (str,),
})

_BENCHMARK_RUN: Mapping[str, tuple[type, ...]] = MappingProxyType({
    "workload": (str,),
    "method": (str,),
    "n": (int,),
    "d": (int,),
    "k": (int,),
    "n_queries": (int,),
    "threads": (int,),
    "repeats": (int,),
    "build_seconds": _NUM,
    "query_seconds": _NUM,
    "build_ratio_vs_kd_tree": _OPT_NUM,
    "query_ratio_vs_kd_tree": _OPT_NUM,
    "build_ratio_vs_ball_tree": _OPT_NUM,
    "query_ratio_vs_ball_tree": _OPT_NUM,
    "build_ratio_vs_brute": _OPT_NUM,
    "query_ratio_vs_brute": _OPT_NUM,
    "exact": (bool, _NONE),
    "max_abs_diff": _OPT_NUM,
    "max_rel_diff": _OPT_NUM,
    "id_match_fraction": _OPT_NUM,
    "machine": (dict,),
    "runtime": (dict, _NONE),
})

#: Present only when measured (``peak_memory_mib``: ``covertreex bench euclidean
#: --memory``; the cKDTree ratios: runs that include scipy's cKDTree, so records
#: written before it was added stay valid).
_BENCHMARK_RUN_OPTIONAL: Mapping[str, tuple[type, ...]] = MappingProxyType({
    "peak_memory_mib": _OPT_NUM,
    "build_ratio_vs_ckdtree": _OPT_NUM,
    "query_ratio_vs_ckdtree": _OPT_NUM,
})

_BUILD_PHASE: Mapping[str, tuple[type, ...]] = MappingProxyType({
    "workload": (str,),
    "n": (int,),
    "d": (int,),
    "phase": (str,),
    "seconds": _NUM,
    "batches": (int,),
    "rounds": (int,),
    "conflict_edges": (int,),
    "max_conflict_degree": (int,),
    "mis_rounds": (int,),
    "duplicates": (int,),
    "n_levels": (int,),
    "runtime": (dict,),
})

_QUERY_BATCH: Mapping[str, tuple[type, ...]] = MappingProxyType({
    "workload": (str,),
    "n_queries": (int,),
    "k": (int,),
    "threads": (int,),
    "seconds": _NUM,
    "distance_evaluations_total": (int, _NONE),
    "distance_evaluations_mean": _OPT_NUM,
})


_RESIDUAL_RUN: Mapping[str, tuple[type, ...]] = MappingProxyType({
    "workload": (str,),
    "method": (str,),
    "query": (str,),
    "n": (int,),
    "d": (int,),
    "m": (int,),
    "k": (int,),
    "kernel": (str,),
    "threads": (int,),
    "fit_seconds": _NUM,
    "query_seconds": _NUM,
    "total_seconds": _NUM,
    "peak_memory_mib": _OPT_NUM,
    "evaluations_per_query": _OPT_NUM,
    "recall": _OPT_NUM,
    "exact_up_to_ties": (bool, _NONE),
    "speedup_vs_bar": _OPT_NUM,
    "engine": (str,),
    "machine": (dict,),
})

_INTEROP_RUN: Mapping[str, tuple[type, ...]] = MappingProxyType({
    "case": (str,),
    "name": (str,),
    "condition": (str,),
    "seconds": _OPT_NUM,
    "ratio": _OPT_NUM,
    "threads": (int,),
    "machine": (dict,),
})


_DASK_RUN: Mapping[str, tuple[type, ...]] = MappingProxyType({
    "workload": (str,),
    "method": (str,),
    "query": (str,),
    "workers": (int,),
    "n": (int,),
    "d": (int,),
    "k": (int,),
    "n_queries": (int,),
    "build_seconds": _NUM,
    "query_seconds": _NUM,
    "peak_memory_mib": (list,),
    "worker_transfer_bytes": (int, _NONE),
    "query_block_bytes": (int, _NONE),
    "identical": (bool, _NONE),
    "exact": (bool, _NONE),
    "machine": (dict,),
})


#: Present only when pruning was counted.
_QUERY_BATCH_OPTIONAL: Mapping[str, tuple[type, ...]] = MappingProxyType({
    "pruned_nodes_total": (int,),
    "pruned_nodes_mean": _NUM,
})


def _freeze(name: str, keys: Mapping[str, tuple[type, ...]],
            optional: Mapping[str, tuple[type, ...]] | None = None) -> Mapping[str, Any]:
    return MappingProxyType({
        "schema": name,
        "schema_version": SCHEMA_VERSION,
        "required": MappingProxyType({**COMMON_KEYS, **keys}),
        "optional": MappingProxyType(dict(optional or {})),
    })


#: ``event name -> {"schema", "schema_version", "required": {key: types},
#: "optional": {key: types}}``.
SCHEMAS: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    "benchmark_run": _freeze("benchmark_run", _BENCHMARK_RUN, _BENCHMARK_RUN_OPTIONAL),
    "build_phase": _freeze("build_phase", _BUILD_PHASE),
    "query_batch": _freeze("query_batch", _QUERY_BATCH, _QUERY_BATCH_OPTIONAL),
    "residual_run": _freeze("residual_run", _RESIDUAL_RUN),
    "interop_run": _freeze("interop_run", _INTEROP_RUN),
    "dask_run": _freeze("dask_run", _DASK_RUN),
})


def _type_names(types: tuple[type, ...]) -> str:
    return " or ".join("None" if t is _NONE else t.__name__ for t in types)


def _has_type(value: Any, types: tuple[type, ...]) -> bool:
    # bool is a subclass of int: accept it only where bool is listed
    if isinstance(value, bool):
        return bool in types
    return isinstance(value, types)


def validate_record(record: Any) -> Mapping[str, Any]:
    """Check a record against the schema its ``"schema"`` key names.

    Parameters
    ----------
    record : mapping
        The record to check.

    Returns
    -------
    mapping
        ``record`` itself, so calls can be chained.

    Raises
    ------
    ValueError
        If the record is not a mapping, names an unknown schema or version,
        lacks a required key, has a required or optional key with a value of
        the wrong type, or a float that is not finite. The message names the
        offending key.
    """
    if not isinstance(record, Mapping):
        raise ValueError(f"a record must be a mapping, got {type(record).__name__}")
    name = record.get("schema")
    if name not in SCHEMAS:
        raise ValueError(f"record key 'schema' must be one of {sorted(SCHEMAS)}, got {name!r}")
    schema = SCHEMAS[name]
    version = record.get("schema_version")
    if isinstance(version, bool) or version != schema["schema_version"]:
        raise ValueError(
            f"{name} record key 'schema_version' must be {schema['schema_version']}, "
            f"got {version!r}"
        )
    for key in schema["required"]:
        if key not in record:
            raise ValueError(f"{name} record is missing required key {key!r}")
    checked = {**schema["required"],
               **{k: t for k, t in schema["optional"].items() if k in record}}
    for key, types in checked.items():
        value = record[key]
        if not _has_type(value, types):
            raise ValueError(
                f"{name} record key {key!r} must be {_type_names(types)}, "
                f"got {type(value).__name__} ({value!r})"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{name} record key {key!r} must be finite, got {value!r}")
    return record
