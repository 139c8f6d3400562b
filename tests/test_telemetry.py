"""Telemetry: schemas, validation, record builders and the JSONL writer."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from sklearn_covertreex import CoverTree, Runtime
from sklearn_covertreex.telemetry import (
    BUILD_PHASES,
    SCHEMA_VERSION,
    SCHEMAS,
    JsonlWriter,
    base_record,
    build_phase_records,
    default_artifacts_dir,
    machine_info,
    query_batch_record,
    read_jsonl,
    runtime_fields,
    validate_record,
)


@pytest.fixture(scope="module")
def diagnostics() -> dict:
    X = np.random.default_rng(0).standard_normal((300, 3))
    tree = CoverTree(Runtime(backend="numpy", diagnostics=True)).fit(X)
    return dict(tree.diagnostics)


def benchmark_run() -> dict:
    return {**base_record("benchmark_run", "run0"), "workload": "W1", "method": "covertree",
            "n": 100, "d": 3, "k": 5, "n_queries": 10, "threads": 2, "repeats": 1,
            "build_seconds": 0.5, "query_seconds": 0.25, "build_ratio_vs_kd_tree": 2.0,
            "query_ratio_vs_kd_tree": 0.5, "build_ratio_vs_ball_tree": None,
            "query_ratio_vs_ball_tree": None, "build_ratio_vs_brute": 3.0,
            "query_ratio_vs_brute": 0.1, "exact": True, "max_abs_diff": 0.0,
            "max_rel_diff": 0.0, "id_match_fraction": 1.0, "machine": machine_info(2),
            "runtime": runtime_fields(Runtime())}


def query_batch() -> dict:
    return query_batch_record(run_id="run0", workload="W1", n_queries=3, k=2, threads=1,
                              seconds=0.01, evaluations=np.array([4, 5, 6]))


def build_phase(diagnostics: dict) -> dict:
    return build_phase_records(diagnostics, run_id="run0", workload="W1", n=300, d=3,
                               runtime=Runtime())[0]


def all_records(diagnostics: dict) -> list[dict]:
    return [benchmark_run(), query_batch(), build_phase(diagnostics)]


def test_every_schema_is_versioned_and_lists_common_keys():
    assert set(SCHEMAS) == {"benchmark_run", "build_phase", "query_batch", "residual_run",
                            "interop_run", "dask_run"}
    for name, schema in SCHEMAS.items():
        assert schema["schema"] == name
        assert schema["schema_version"] == SCHEMA_VERSION == 1
        for key in ("schema", "schema_version", "run_id", "timestamp"):
            assert key in schema["required"]


def test_schemas_are_read_only():
    with pytest.raises(TypeError):
        SCHEMAS["other"] = {}  # type: ignore[index]
    with pytest.raises(TypeError):
        SCHEMAS["query_batch"]["required"]["k"] = (str,)  # type: ignore[index]


def test_valid_records_pass(diagnostics):
    for record in all_records(diagnostics):
        assert validate_record(record) is record


@pytest.mark.parametrize("which", [0, 1, 2])
def test_each_missing_key_is_named(diagnostics, which):
    record = all_records(diagnostics)[which]
    for key in SCHEMAS[record["schema"]]["required"]:
        broken = {k: v for k, v in record.items() if k != key}
        with pytest.raises(ValueError, match=repr(key) if key != "schema" else "schema"):
            validate_record(broken)


@pytest.mark.parametrize(("key", "value"), [
    ("n", "100"), ("n", 1.5), ("n", True), ("exact", "yes"), ("exact", 1),
    ("build_seconds", None), ("build_seconds", "1"), ("build_seconds", math.nan),
    ("query_ratio_vs_kd_tree", math.inf), ("machine", "x86"), ("runtime", []),
    ("workload", 1), ("run_id", None),
])
def test_ill_typed_keys_are_named(key, value):
    record = {**benchmark_run(), key: value}
    with pytest.raises(ValueError, match=repr(key)):
        validate_record(record)


def test_optional_values_and_ints_for_floats_are_accepted():
    record = {**benchmark_run(), "exact": None, "max_rel_diff": None, "build_seconds": 1,
              "runtime": None}
    validate_record(record)


@pytest.mark.parametrize("record", [
    None, [], {"schema": "nope", "schema_version": 1},
    {**base_record("query_batch", "r"), "schema_version": 2},
    {**base_record("query_batch", "r"), "schema_version": True},
])
def test_bad_schema_or_version(record):
    with pytest.raises(ValueError):
        validate_record(record)


def test_extra_keys_are_allowed():
    validate_record({**query_batch(), "note": "anything"})


def test_query_batch_record_evaluations():
    rec = query_batch()
    assert rec["distance_evaluations_total"] == 15
    assert rec["distance_evaluations_mean"] == pytest.approx(5.0)
    empty = query_batch_record(run_id="r", workload="w", n_queries=0, k=1, threads=1,
                               seconds=0.0)
    assert empty["distance_evaluations_total"] is None
    validate_record(empty)


def test_build_phase_records_from_diagnostics(diagnostics):
    records = build_phase_records(diagnostics, run_id="r", workload="w", n=300, d=3,
                                  runtime=Runtime(diagnostics=True))
    assert [r["phase"] for r in records] == list(BUILD_PHASES)
    for r in records:
        validate_record(r)
        assert r["rounds"] == diagnostics["rounds"]
        assert r["n_levels"] == diagnostics["n_levels"]
        assert r["seconds"] == pytest.approx(diagnostics["seconds"][r["phase"]])
    assert records[0]["runtime"]["diagnostics"] is True


def test_build_phase_records_need_diagnostics():
    with pytest.raises(ValueError, match="diagnostics"):
        build_phase_records({"seconds": {}}, run_id="r", workload="w", n=1, d=1,
                            runtime=Runtime())


def test_default_artifacts_dir():
    path = default_artifacts_dir()
    assert path == Path("artifacts/benchmarks")
    assert not path.is_absolute()


def test_writer_round_trip_and_append(tmp_path, diagnostics):
    path = tmp_path / "deep" / "er" / "runs.jsonl"
    records = all_records(diagnostics)
    with JsonlWriter(path) as out:
        out.write_all(records)
        assert out.n_written == 3
    with JsonlWriter(path) as out:
        out.write(records[1])
    lines = path.read_text().splitlines()
    assert len(lines) == 4
    assert all(isinstance(json.loads(line), dict) for line in lines)
    back = read_jsonl(path)
    assert back[:3] == [json.loads(json.dumps(r)) for r in records]
    assert back[3] == back[1]


def test_writer_converts_numpy_scalars(tmp_path):
    record = {**benchmark_run(), "n": np.int64(100), "build_seconds": np.float32(0.5),
              "exact": np.bool_(True)}
    path = tmp_path / "np.jsonl"
    with JsonlWriter(path) as out:
        out.write(record)
    (back,) = read_jsonl(path)
    assert back["n"] == 100 and back["exact"] is True and back["build_seconds"] == 0.5


def test_writer_rejects_invalid_record_and_writes_nothing(tmp_path):
    path = tmp_path / "bad.jsonl"
    record = benchmark_run()
    del record["k"]
    with JsonlWriter(path) as out, pytest.raises(ValueError, match="'k'"):
        out.write(record)
    assert path.read_text() == ""


def test_writer_must_be_open(tmp_path):
    writer = JsonlWriter(tmp_path / "x.jsonl")
    with pytest.raises(RuntimeError):
        writer.write(query_batch())
    assert not (tmp_path / "x.jsonl").exists()


def test_optional_keys_are_type_checked_when_present():
    for name, schema in SCHEMAS.items():
        assert set(schema["optional"]).isdisjoint(schema["required"]), name
    assert "peak_memory_mib" in SCHEMAS["benchmark_run"]["optional"]
    for key in ("build_ratio_vs_ckdtree", "query_ratio_vs_ckdtree"):
        assert key in SCHEMAS["benchmark_run"]["optional"]
        validate_record({**benchmark_run(), key: 0.5})
        validate_record({**benchmark_run(), key: None})
        with pytest.raises(ValueError, match=repr(key)):
            validate_record({**benchmark_run(), key: "0.5"})
    validate_record(benchmark_run())  # absent
    validate_record({**benchmark_run(), "peak_memory_mib": 12.5})
    validate_record({**benchmark_run(), "peak_memory_mib": None})
    for bad in ("12", True, math.inf):
        with pytest.raises(ValueError, match="'peak_memory_mib'"):
            validate_record({**benchmark_run(), "peak_memory_mib": bad})


def test_query_batch_pruned_keys_are_optional_and_checked():
    rec = query_batch_record(run_id="r", workload="w", n_queries=2, k=1, threads=1,
                             seconds=0.1, evaluations=[1, 2], pruned=[3, 4])
    assert validate_record(rec)["pruned_nodes_total"] == 7
    with pytest.raises(ValueError, match="'pruned_nodes_total'"):
        validate_record({**rec, "pruned_nodes_total": 7.5})
