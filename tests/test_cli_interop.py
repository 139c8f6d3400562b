"""``covertreex bench interop``: the plumbing, on a tiny contention run (no timings checked)."""

from __future__ import annotations

import pytest

from sklearn_covertreex.cli import CliError, main
from sklearn_covertreex.cli.interop import CompetingJob, format_rows, run_child
from sklearn_covertreex.telemetry import read_jsonl


def test_bench_interop_contention_writes_records(tmp_path, capsys):
    out = tmp_path / "interop.jsonl"
    assert main(["bench", "interop", "--skip", "libraries,cold", "--n", "3000", "--queries",
                 "200", "--repeats", "1", "--n-jobs", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "covertreex build (n=3000)" in text and "kd_tree query (n=3000)" in text
    records = list(read_jsonl(out))
    assert {r["schema"] for r in records} == {"interop_run"}
    assert len(records) == 8 and all(r["threads"] == 2 and r["seconds"] > 0 for r in records)
    busy = [r for r in records if r["condition"].startswith("beside")]
    assert len(busy) == 4 and all(r["ratio"] > 0 for r in busy)


def test_bench_interop_rejects_unknown_parts(tmp_path, capsys):
    assert main(["bench", "interop", "--skip", "gpu", "--out", str(tmp_path / "o.jsonl")]) == 2
    assert "--skip takes libraries, contention, cold" in capsys.readouterr().err


def test_run_child_returns_variables_and_reports_failures():
    assert run_child("x = 1 + 1", ("x",)) == {"x": 2}
    with pytest.raises(CliError, match="ZeroDivisionError"):
        run_child("x = 1 / 0", ("x",))


def test_competing_job_stops_its_processes():
    with CompetingJob(2) as job:
        assert all(p.poll() is None for p in job.procs)
    assert all(p.poll() is not None for p in job.procs)


def test_format_rows_marks_missing_libraries():
    text = format_rows([{"case": "library", "name": "gpboost", "condition": "not installed"}], 2)
    assert "not installed" in text and "2 threads" in text
