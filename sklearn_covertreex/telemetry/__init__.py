"""Telemetry: versioned JSONL records of benchmark runs, builds and queries.

This subpackage holds the only file writers of ``sklearn_covertreex``; it has
no global mutable state.
"""

from .records import (
    BUILD_COUNTERS,
    BUILD_PHASES,
    base_record,
    build_phase_records,
    machine_info,
    new_run_id,
    query_batch_record,
    runtime_fields,
    utc_timestamp,
)
from .schemas import SCHEMA_VERSION, SCHEMAS, validate_record
from .writer import JsonlWriter, default_artifacts_dir, read_jsonl, to_jsonable

__all__ = [
    "BUILD_COUNTERS",
    "BUILD_PHASES",
    "JsonlWriter",
    "SCHEMAS",
    "SCHEMA_VERSION",
    "base_record",
    "build_phase_records",
    "default_artifacts_dir",
    "machine_info",
    "new_run_id",
    "query_batch_record",
    "read_jsonl",
    "runtime_fields",
    "to_jsonable",
    "utc_timestamp",
    "validate_record",
]
