"""The ``covertreex`` command line: parsing, end-to-end runs, error reporting."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import joblib
import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from sklearn_covertreex import CoverTreeNeighbors, Runtime
from sklearn_covertreex.cli import CliError, build_parser, main
from sklearn_covertreex.cli.compare import MethodResult, exactness
from sklearn_covertreex.cli.options import resolve_threads, runtime_from_args
from sklearn_covertreex.telemetry import read_jsonl


def assert_one_error_line(capsys, *needles: str) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("covertreex: error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


# ------------------------------------------------------------------ parsing
def test_parse_demo_defaults_and_runtime():
    args = build_parser().parse_args(["demo"])
    assert (args.n, args.d, args.queries, args.k, args.seed) == (100_000, 3, 10_000, 16, 0)
    assert args.no_sklearn is False and args.out is None
    args = build_parser().parse_args(
        ["demo", "--n", "50", "--d", "2", "--queries", "7", "--k", "3", "--seed", "4",
         "--backend", "numpy", "--traversal", "sparse", "--conflict-graph", "grid",
         "--batch-order", "hilbert", "--n-jobs", "1", "--no-sklearn", "--out", "x.jsonl"])
    assert (args.n, args.d, args.queries, args.k) == (50, 2, 7, 3)
    rt = runtime_from_args(args, diagnostics=True)
    assert rt == Runtime(backend="numpy", traversal="sparse", conflict_graph="grid",
                         batch_order="hilbert", seed=4, n_jobs=1, diagnostics=True)
    assert args.no_sklearn and args.out == "x.jsonl"


def test_parse_build():
    args = build_parser().parse_args(["build", "in.csv", "--output", "m.joblib", "--k", "7",
                                      "--skip-header", "--conflict-graph", "tree"])
    assert (args.input, args.output, args.k, args.skip_header) == ("in.csv", "m.joblib", 7, True)
    assert args.conflict_graph == "tree" and args.delimiter == ","


def test_parse_query():
    args = build_parser().parse_args(["query", "m.joblib", "q.npy", "--k", "3", "--output",
                                      "o.npy", "--distances", "d.npy", "--n-jobs", "1"])
    assert (args.model, args.input, args.k, args.output, args.distances, args.n_jobs) == (
        "m.joblib", "q.npy", 3, "o.npy", "d.npy", 1)
    assert build_parser().parse_args(["query", "m", "q.npy", "-o", "o.npy"]).k is None


def test_parse_bench():
    args = build_parser().parse_args(
        ["bench", "euclidean", "--preset", "w3", "--n", "10", "--d", "4", "--k", "2",
         "--queries", "5", "--repeats", "2", "--seed", "1", "--scale", "0.5", "--out", "b"])
    assert (args.suite, args.preset, args.n, args.d, args.k, args.queries) == (
        "euclidean", ["W3"], 10, 4, 2, 5)
    assert build_parser().parse_args(["bench", "euclidean", "--preset", "W1", "w4"]).preset == [
        "W1", "W4"]
    assert (args.repeats, args.seed, args.scale, args.out) == (2, 1, 0.5, "b")
    for suite in ("residual", "scaling"):
        assert build_parser().parse_args(["bench", suite]).suite == suite


@pytest.mark.parametrize("argv", [
    [], ["nope"], ["demo", "--n", "0"], ["demo", "--k", "x"], ["build", "x.npy"],
    ["query", "m.joblib"], ["bench"], ["bench", "euclidean", "--preset", "W9"],
    ["bench", "euclidean", "--scale", "-1"],
])
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    assert_one_error_line(capsys, "--help")


def test_help_and_version(capsys):
    assert main(["--help"]) == 0
    assert main(["--version"]) == 0
    assert "covertreex" in capsys.readouterr().out


def test_resolve_threads():
    assert resolve_threads(1) == 1
    assert resolve_threads(None) >= 1 and resolve_threads(-1) == resolve_threads(None)
    with pytest.raises(ValueError):
        resolve_threads(0)


# --------------------------------------------------------------- end to end
def test_demo_end_to_end(tmp_path, capsys):
    out = tmp_path / "demo.jsonl"
    env_before = dict(os.environ)
    assert main(["demo", "--n", "2000", "--queries", "200", "--out", str(out),
                 "--n-jobs", "2", "--no-progress"]) == 0
    assert dict(os.environ) == env_before
    printed = capsys.readouterr().out
    for word in ("covertree", "kd_tree", "ball_tree", "brute", "build phases"):
        assert word in printed
    records = read_jsonl(out)
    kinds = Counter(r["schema"] for r in records)
    assert kinds == {"benchmark_run": 4, "build_phase": 8, "query_batch": 1}
    runs = {r["method"]: r for r in records if r["schema"] == "benchmark_run"}
    ct = runs["covertree"]
    assert ct["exact"] is True and ct["id_match_fraction"] == 1.0
    assert (ct["n"], ct["d"], ct["k"], ct["n_queries"], ct["threads"]) == (2000, 3, 16, 200, 2)
    assert ct["query_ratio_vs_kd_tree"] == pytest.approx(
        ct["query_seconds"] / runs["kd_tree"]["query_seconds"])
    assert ct["runtime"]["diagnostics"] is True and runs["brute"]["runtime"] is None
    (qb,) = [r for r in records if r["schema"] == "query_batch"]
    assert qb["distance_evaluations_total"] > 0
    assert len({r["run_id"] for r in records}) == 1


def test_demo_without_sklearn(tmp_path, capsys):
    out = tmp_path / "d.jsonl"
    assert main(["demo", "--n", "500", "--queries", "20", "--k", "4", "--no-sklearn",
                 "--out", str(out)]) == 0
    (run,) = [r for r in read_jsonl(out) if r["schema"] == "benchmark_run"]
    assert run["exact"] is None and run["query_ratio_vs_brute"] is None


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_build_then_query(tmp_path, capsys, suffix):
    rng = np.random.default_rng(0)
    X, Q = rng.standard_normal((300, 3)), rng.standard_normal((25, 3))
    if suffix == ".npy":
        np.save(tmp_path / "x.npy", X)
        np.save(tmp_path / "q.npy", Q)
        extra: list[str] = []
    else:
        np.savetxt(tmp_path / "x.csv", X, delimiter=",", header="a,b,c", comments="")
        np.savetxt(tmp_path / "q.csv", Q, delimiter=",", header="a,b,c", comments="")
        X, Q = np.loadtxt(tmp_path / "x.csv", delimiter=",", skiprows=1), np.loadtxt(
            tmp_path / "q.csv", delimiter=",", skiprows=1)
        extra = ["--skip-header"]
    model = tmp_path / "m.joblib"
    assert main(["build", str(tmp_path / f"x{suffix}"), "--output", str(model), "--k", "4",
                 "--conflict-graph", "grid", "--seed", "3", *extra]) == 0
    est = joblib.load(model)
    assert isinstance(est, CoverTreeNeighbors)
    assert (est.n_neighbors, est.conflict_graph, est.n_samples_fit_) == (4, "grid", 300)
    ind_path, dist_path = tmp_path / "i.npy", tmp_path / "d.npy"
    assert main(["query", str(model), str(tmp_path / f"q{suffix}"), "--k", "5", "--output",
                 str(ind_path), "--distances", str(dist_path), *extra]) == 0
    ind, dist = np.load(ind_path), np.load(dist_path)
    ref_d, ref_i = NearestNeighbors(n_neighbors=5, algorithm="brute").fit(X).kneighbors(Q)
    assert ind.shape == (25, 5) and ind.dtype == np.int64
    np.testing.assert_allclose(dist, ref_d, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(np.sort(ind, axis=1), np.sort(ref_i, axis=1))
    # default k is the model's n_neighbors
    assert main(["query", str(model), str(tmp_path / f"q{suffix}"), "-o", str(ind_path),
                 *extra]) == 0
    assert np.load(ind_path).shape == (25, 4)


def test_bench_euclidean_end_to_end(tmp_path, capsys):
    out = tmp_path / "bench.jsonl"
    assert main(["bench", "euclidean", "--preset", "W1", "--scale", "0.01", "--out", str(out),
                 "--no-progress"]) == 0
    records = read_jsonl(out)
    runs = [r for r in records if r["schema"] == "benchmark_run"]
    assert {r["method"] for r in runs} == {"covertree", "kd_tree", "ball_tree", "brute",
                                           "ckdtree"}
    assert all(r["workload"] == "W1" and r["n"] == 1000 and r["n_queries"] == 100 for r in runs)
    assert all(r["exact"] for r in runs)
    ct = next(r for r in runs if r["method"] == "covertree")
    ck = next(r for r in runs if r["method"] == "ckdtree")
    assert ct["build_ratio_vs_ckdtree"] == pytest.approx(ct["build_seconds"] / ck["build_seconds"])
    assert ct["query_ratio_vs_ckdtree"] == pytest.approx(ct["query_seconds"] / ck["query_seconds"])
    assert sum(r["schema"] == "build_phase" for r in records) == 8
    printed = capsys.readouterr().out
    assert "W1" in printed and "ckdtree" in printed


def test_bench_all_points_preset(tmp_path, capsys):
    out = tmp_path / "w4.jsonl"
    assert main(["bench", "euclidean", "--preset", "W4", "--n", "400", "--k", "3",
                 "--out", str(out), "--n-jobs", "1"]) == 0
    runs = [r for r in read_jsonl(out) if r["schema"] == "benchmark_run"]
    assert all(r["exact"] and r["n_queries"] == 400 and r["threads"] == 1 for r in runs)


def test_bench_residual_tiny(tmp_path, capsys):
    out = tmp_path / "residual.jsonl"
    assert main(["bench", "residual", "--preset", "gold", "ls03", "--n", "600", "--m", "32",
                 "--k", "5", "--out", str(out), "--n-jobs", "1", "--repeats", "2"]) == 0
    runs = read_jsonl(out)
    assert {r["schema"] for r in runs} == {"residual_run"}
    assert {(r["workload"], r["query"], r["method"]) for r in runs} == {
        (w, q, m) for w in ("gold", "ls03") for q in ("kneighbors", "vecchia")
        for m in ("bar-brute", "covertreex-auto")}
    assert all(r["exact_up_to_ties"] and r["n"] == 600 for r in runs)
    assert "vs bar" in capsys.readouterr().out


@pytest.mark.parametrize("argv, needle", [
    (["--k", "600", "--n", "600"], "too large"),
    (["--algorithm", "kd_tree"], "valid choices"),
    (["--conflict-graph", "grid", "--n", "200", "--m", "8", "--k", "3"], "needs coordinates"),
    (["--backend", "cuda", "--n", "200", "--m", "8", "--k", "3"], "valid choices"),
])
def test_bench_residual_errors(argv, needle, capsys):
    assert main(["bench", "residual", *argv]) == 2
    assert_one_error_line(capsys, needle)


def test_bench_scaling_tiny(tmp_path):
    out = tmp_path / "scaling.jsonl"
    assert main(["bench", "scaling", "--sizes", "300,600", "--queries", "20", "--k", "3",
                 "--out", str(out), "--no-plot", "--n-jobs", "1"]) == 0
    runs = [r for r in read_jsonl(out) if r["schema"] == "benchmark_run"]
    assert sorted({r["n"] for r in runs}) == [300, 600]
    assert {r["method"] for r in runs} == {"covertree", "kd_tree"}
    assert all(r["exact"] for r in runs if r["method"] == "covertree")


def test_bench_scaling_plot(tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "s.png"
    assert main(["bench", "scaling", "--sizes", "200,400", "--queries", "10", "--k", "2",
                 "--out", str(tmp_path / "s.jsonl"), "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("sizes", ["abc", "2", ""])
def test_bench_scaling_bad_sizes(sizes, capsys):
    assert main(["bench", "scaling", "--sizes", sizes, "--k", "3", "--no-plot"]) == 2
    assert_one_error_line(capsys, "sizes")


def test_python_dash_m():
    proc = subprocess.run([sys.executable, "-m", "sklearn_covertreex", "--version"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "covertreex" in proc.stdout


# ----------------------------------------------------------------- errors
@pytest.fixture()
def files(tmp_path):
    rng = np.random.default_rng(1)
    np.save(tmp_path / "x.npy", rng.standard_normal((60, 3)))
    np.save(tmp_path / "x2d.npy", rng.standard_normal((5, 2)))
    np.save(tmp_path / "cube.npy", np.zeros((2, 2, 2)))
    np.save(tmp_path / "nan.npy", np.array([[1.0, np.nan], [0.0, 1.0]]))
    np.save(tmp_path / "text.npy", np.array([["a", "b"]]))
    (tmp_path / "words.csv").write_text("1,2,3\n4,x,6\n")
    (tmp_path / "ragged.csv").write_text("1,2,3\n4,5\n")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "inf.csv").write_text("1,2\ninf,3\n")
    (tmp_path / "x.txt").write_text("1,2\n")
    joblib.dump({"not": "a model"}, tmp_path / "dict.joblib")
    assert main(["build", str(tmp_path / "x.npy"), "-o", str(tmp_path / "m.joblib")]) == 0
    return tmp_path


@pytest.mark.parametrize(("argv", "needle"), [
    (["build", "{t}/missing.npy", "-o", "{t}/o.joblib"], "no such file"),
    (["build", "{t}/x.txt", "-o", "{t}/o.joblib"], "unsupported file type"),
    (["build", "{t}/words.csv", "-o", "{t}/o.joblib"], "cannot read numbers"),
    (["build", "{t}/ragged.csv", "-o", "{t}/o.joblib"], "cannot read numbers"),
    (["build", "{t}/empty.csv", "-o", "{t}/o.joblib"], "no data"),
    (["build", "{t}/inf.csv", "-o", "{t}/o.joblib"], "NaN or infinity"),
    (["build", "{t}/nan.npy", "-o", "{t}/o.joblib"], "NaN or infinity at row 0, column 1"),
    (["build", "{t}/cube.npy", "-o", "{t}/o.joblib"], "2-D"),
    (["build", "{t}/text.npy", "-o", "{t}/o.joblib"], "real numbers"),
    (["build", "{t}/x.npy", "-o", "{t}/nodir/o.joblib"], "does not exist"),
    (["build", "{t}/x.npy", "-o", "{t}/o.joblib", "--conflict-graph", "bogus"],
     "Unknown conflict_graph 'bogus'"),
    (["build", "{t}/x.npy", "-o", "{t}/o.joblib", "--backend", "cuda"], "Unknown backend"),
    (["build", "{t}/x.npy", "-o", "{t}/o.joblib", "--n-jobs", "0"], "--n-jobs"),
    (["build", "{t}/x.npy", "-o", "{t}/o.joblib", "--seed", "-1"], "seed"),
    (["query", "{t}/missing.joblib", "{t}/x.npy", "-o", "{t}/i.npy"], "no such file"),
    (["query", "{t}/x.npy", "{t}/x.npy", "-o", "{t}/i.npy"], "cannot load a model"),
    (["query", "{t}/dict.joblib", "{t}/x.npy", "-o", "{t}/i.npy"], "CoverTreeNeighbors"),
    (["query", "{t}/m.joblib", "{t}/x2d.npy", "-o", "{t}/i.npy"], "features"),
    (["query", "{t}/m.joblib", "{t}/nan.npy", "-o", "{t}/i.npy"], "NaN"),
    (["query", "{t}/m.joblib", "{t}/x.npy", "-o", "{t}/i.txt"], ".npy"),
    (["query", "{t}/m.joblib", "{t}/x.npy", "-o", "{t}/nodir/i.npy"], "does not exist"),
    (["query", "{t}/m.joblib", "{t}/x.npy", "-o", "{t}/i.npy", "--k", "999"], "n_neighbors"),
    (["demo", "--n", "10", "--k", "16"], "--k"),
    (["demo", "--n", "100", "--traversal", "bfs"], "Unknown traversal"),
    (["bench", "euclidean", "--batch-order", "zigzag"], "Unknown batch_order"),
    (["bench", "euclidean", "--preset", "W4", "--n", "5", "--k", "5"], "too large"),
])
def test_errors_are_one_line_and_exit_2(files, capsys, argv, needle):
    capsys.readouterr()
    assert main([a.format(t=files) for a in argv]) == 2
    assert_one_error_line(capsys, needle)
    assert not (files / "o.joblib").exists() and not (files / "i.npy").exists()


# -------------------------------------------------------------- exactness
def _result(dist, ids):
    return MethodResult("m", 0.0, 0.0, np.asarray(dist, float), np.asarray(ids))


def test_exactness_accepts_ties_at_the_kth_distance_only():
    ref = _result([[0.0, 1.0, 2.0]], [[0, 1, 2]])
    tie = _result([[0.0, 1.0, 2.0]], [[0, 1, 7]])  # id 7 also at distance 2
    assert exactness(tie, ref)["exact"] is True
    assert exactness(tie, ref)["id_match_fraction"] == 0.0
    wrong = _result([[0.0, 1.0, 2.0]], [[0, 7, 2]])  # id 7 replaces a closer id
    check = exactness(wrong, ref)
    assert check["exact"] is False and check["untied_mismatches"] == 1
    far = _result([[0.0, 1.0, 2.5]], [[0, 1, 2]])
    assert exactness(far, ref)["exact"] is False


# ------------------------------------------------- errors before any work
@pytest.fixture()
def no_work(monkeypatch):
    """Make any data generation or timed run fail the test (AssertionError is no user error)."""
    from sklearn_covertreex.cli import bench, demo, residual_bench, scaling

    def forbidden(*args, **kwargs):
        raise AssertionError("work ran before the checks")

    for module, name in ((demo, "demo_data"), (demo, "run_methods"), (bench, "make_data"),
                         (bench, "run_methods"), (bench, "measure_memory"),
                         (scaling, "run_methods"), (residual_bench, "make_points")):
        monkeypatch.setattr(module, name, forbidden)


def test_npz_archive_named_npy(tmp_path, capsys):
    np.savez(tmp_path / "a.npz", x=np.zeros((3, 2)))
    (tmp_path / "fake.npy").write_bytes((tmp_path / "a.npz").read_bytes())
    assert main(["build", str(tmp_path / "fake.npy"), "-o", str(tmp_path / "m.joblib")]) == 2
    assert_one_error_line(capsys, "fake.npy", ".npz archive", "numpy.save")
    assert not (tmp_path / "m.joblib").exists()


@pytest.mark.parametrize("spelling", ["\\t", "tab", "\t"])
def test_tab_delimiter(tmp_path, capsys, spelling):
    X = np.random.default_rng(2).standard_normal((40, 3))
    np.savetxt(tmp_path / "x.csv", X, delimiter="\t")
    model = tmp_path / "m.joblib"
    assert main(["build", str(tmp_path / "x.csv"), "-o", str(model), "--delimiter", spelling,
                 "--k", "2"]) == 0
    assert joblib.load(model).n_features_in_ == 3
    assert main(["query", str(model), str(tmp_path / "x.csv"), "-o", str(tmp_path / "i.npy"),
                 "--delimiter", spelling]) == 0
    assert np.load(tmp_path / "i.npy").shape == (40, 2)


@pytest.mark.parametrize("bad", ["ab", "", "\\n", "1", "."])
def test_bad_delimiter(tmp_path, capsys, bad):
    (tmp_path / "x.csv").write_text("1,2\n3,4\n")
    assert main(["build", str(tmp_path / "x.csv"), "-o", str(tmp_path / "m.joblib"),
                 "--delimiter", bad]) == 2
    assert_one_error_line(capsys, "--delimiter")


def test_bench_residual_missing_cupy(no_work, capsys):
    try:
        import cupy  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("cupy is installed")
    assert main(["bench", "residual", "--backend", "cupy", "--n", "200", "--m", "8",
                 "--k", "3", "--out", os.devnull]) == 2
    assert_one_error_line(capsys, "cupy", "pip install 'sklearn_covertreex[cupy]'")


@pytest.mark.parametrize("scale", ["1e308", "1e300"])
def test_bench_huge_scale(no_work, capsys, tmp_path, scale):
    assert main(["bench", "euclidean", "--scale", scale, "--out",
                 str(tmp_path / "e.jsonl")]) == 2
    assert_one_error_line(capsys)
    assert not (tmp_path / "e.jsonl").exists()


@pytest.mark.parametrize("argv", [
    ["demo", "--n", "1000000000000"],
    ["demo", "--n", "100", "--d", "100000000000000"],
    ["bench", "euclidean", "--preset", "W4", "--n", "1000000000000"],
    ["bench", "euclidean", "--scale", "1e9"],
    ["bench", "scaling", "--sizes", "100,1000000000000", "--no-plot"],
    ["bench", "residual", "--n", "10000000000"],
])
def test_runs_too_large_for_memory(no_work, capsys, tmp_path, argv):
    assert main([*argv, "--out", str(tmp_path / "r.jsonl")]) == 2
    assert_one_error_line(capsys, "GiB of memory")


def test_memory_check_uses_physical_memory(no_work, capsys, monkeypatch, tmp_path):
    from sklearn_covertreex.cli import checks

    assert checks.physical_memory_bytes() is None or checks.physical_memory_bytes() > 2**20
    monkeypatch.setattr(checks, "physical_memory_bytes", lambda: 10_000)
    assert main(["demo", "--n", "500", "--out", str(tmp_path / "d.jsonl")]) == 2
    assert_one_error_line(capsys, "this machine has")


@pytest.mark.parametrize(("argv", "needle"), [
    (["demo", "--out", "{t}"], "is a folder"),
    (["demo", "--out", "{t}/x.npy/d.jsonl"], "is not a folder"),
    (["demo", "--out", "{t}/x.npy/deeper/d.jsonl"], "is not a folder"),
    (["demo", "--out", ""], "expected a file path"),
    (["bench", "euclidean", "--out", "{t}"], "is a folder"),
    (["bench", "euclidean", "--out", "{t}/x.npy/e.jsonl", "--memory"], "is not a folder"),
    (["bench", "scaling", "--out", "{t}", "--no-plot"], "is a folder"),
    (["bench", "scaling", "--out", "{t}/s.jsonl", "--plot", "{t}"], "--plot"),
    (["bench", "scaling", "--out", "{t}/s.jsonl", "--plot", "{t}/x.npy/s.png"], "--plot"),
    (["bench", "residual", "--out", "{t}"], "is a folder"),
    (["build", "{t}/x.npy", "-o", "{t}"], "is a folder"),
    (["query", "{t}/m.joblib", "{t}/x.npy", "-o", "{t}/i.npy", "--distances", "{t}/no/d.npy"],
     "does not exist"),
    (["query", "{t}/m.joblib", "{t}/x.npy", "-o", "{t}/i.npy", "--distances", "{t}/i.npy"],
     "same file"),
    (["build", "{t}", "-o", "{t}/o.joblib"], "is a folder"),
    (["query", "{t}", "{t}/x.npy", "-o", "{t}/i.npy"], "is a folder"),
])
def test_output_paths_checked_before_work(files, no_work, capsys, argv, needle):
    capsys.readouterr()
    assert main([a.format(t=files) for a in argv]) == 2
    assert_one_error_line(capsys, needle)
    assert not (files / "i.npy").exists() and not (files / "o.joblib").exists()


def test_jsonl_folders_are_created_before_work(tmp_path, no_work, capsys):
    out = tmp_path / "new" / "deeper" / "d.jsonl"
    with pytest.raises(AssertionError, match="work ran"):
        main(["demo", "--n", "100", "--out", str(out)])
    assert out.parent.is_dir() and not out.exists()


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True,
                    reason="needs a non-root POSIX user")
def test_read_only_folder(tmp_path, no_work, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert main(["demo", "--out", str(ro / "d.jsonl")]) == 2
        assert_one_error_line(capsys, "not writable")
    finally:
        ro.chmod(0o700)


def test_missing_matplotlib_checked_before_work(tmp_path, no_work, capsys, monkeypatch):
    import importlib

    real = importlib.import_module

    def no_matplotlib(name, *args):
        if name.startswith("matplotlib"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_matplotlib)
    assert main(["bench", "scaling", "--sizes", "300", "--out", str(tmp_path / "s.jsonl"),
                 "--plot", str(tmp_path / "s.png")]) == 2
    assert_one_error_line(capsys, "matplotlib", "sklearn_covertreex[bench]", "--no-plot")


def test_missing_backend_extra_is_one_line(tmp_path, no_work, capsys, monkeypatch):
    import sklearn_covertreex.backends as backends
    from sklearn_covertreex.cli.checks import require_backend

    def missing(name):
        raise ImportError(f"backend {name!r} is not available: No module named 'numba' "
                          "(install it with: pip install 'sklearn_covertreex[numba]')")

    monkeypatch.setattr(backends, "get_backend", missing)
    with pytest.raises(CliError, match=r"sklearn_covertreex\[numba\]"):
        require_backend("numba")
    for argv in (["bench", "euclidean"], ["demo"], ["bench", "scaling", "--no-plot"],
                 ["build", str(tmp_path / "x.npy"), "-o", str(tmp_path / "m.joblib")]):
        out = [] if argv[0] == "build" else ["--out", str(tmp_path / "e.jsonl")]
        assert main([*argv, "--backend", "numba", *out]) == 2
        assert_one_error_line(capsys, "sklearn_covertreex[numba]")


def test_memory_error_is_one_line(tmp_path, capsys, monkeypatch):
    from sklearn_covertreex.cli import demo

    def oom(*args, **kwargs):
        raise MemoryError("Unable to allocate 8.0 TiB for an array")

    monkeypatch.setattr(demo, "run_methods", oom)
    assert main(["demo", "--n", "100", "--queries", "5", "--out", str(tmp_path / "d.jsonl")]) == 2
    assert_one_error_line(capsys, "Unable to allocate")


# ------------------------------------------------------------- --memory
def test_bench_euclidean_memory(tmp_path, capsys):
    out = tmp_path / "mem.jsonl"
    assert main(["bench", "euclidean", "--preset", "W1", "--scale", "0.002", "--memory",
                 "--out", str(out), "--n-jobs", "1", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "peak MiB" in printed
    runs = [r for r in read_jsonl(out) if r["schema"] == "benchmark_run"]
    assert {r["method"] for r in runs} == {"covertree", "kd_tree", "ball_tree", "brute",
                                           "ckdtree"}
    for r in runs:
        assert isinstance(r["peak_memory_mib"], float) and 0.0 <= r["peak_memory_mib"] < 1024
        assert r["exact"] and r["n"] == 200 and r["n_queries"] == 20


def test_bench_euclidean_without_memory_has_no_memory_key(tmp_path, capsys):
    out = tmp_path / "t.jsonl"
    assert main(["bench", "euclidean", "--preset", "W3", "--scale", "0.002", "--out", str(out),
                 "--n-jobs", "1"]) == 0
    assert "peak MiB" not in capsys.readouterr().out
    runs = [r for r in read_jsonl(out) if r["schema"] == "benchmark_run"]
    assert runs and all("peak_memory_mib" not in r and r["exact"] for r in runs)


def test_peak_memory_child_in_process():
    from sklearn_covertreex.cli.memory import current_rss_mib, peak_memory_child, peak_rss_mib
    from sklearn_covertreex.cli.workloads import PRESETS

    w = PRESETS["W4"].scaled(0.002)
    child = peak_memory_child("kd_tree", w, 0, Runtime(n_jobs=1))
    assert child["peak_memory_mib"] >= 0.0 and child["baseline_rss_mib"] > 0.0
    assert child["build_seconds"] >= 0.0 and child["query_seconds"] >= 0.0
    assert peak_rss_mib() > 0.0
    rss = current_rss_mib()
    assert rss is None or rss > 0.0


def test_memory_child_failure_is_one_line(capsys, monkeypatch):
    from sklearn_covertreex.cli import memory
    from sklearn_covertreex.cli.workloads import PRESETS

    class Broken:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def submit(self, *args):
            raise RuntimeError("child died")

    monkeypatch.setattr(memory, "ProcessPoolExecutor", Broken)
    with pytest.raises(CliError, match="peak-memory child of brute on W1 failed.*child died"):
        memory.measure_memory([PRESETS["W1"]], ["brute"], 0, Runtime())


# -------------------------------------------------- the benchmarks/ shims
def _shim(name: str):
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_shim_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_euclidean_shim_maps_old_flags(capsys):
    translate = _shim("bench_euclidean").translate
    assert translate([]) == ["bench", "euclidean", "--preset", "W1", "W2", "W3", "W4",
                             "--memory"]
    assert translate(["--workloads", "W1,w4", "--threads", "2", "--json", "o.json",
                      "--no-memory", "--scale", "0.1", "--repeats", "3"]) == [
        "bench", "euclidean", "--preset", "W1", "w4", "--n-jobs", "2", "--out", "o.json",
        "--scale", "0.1", "--repeats", "3"]
    assert "--out" in capsys.readouterr().err
    assert translate(["--preset", "W2", "--memory"]) == ["bench", "euclidean", "--preset",
                                                         "W2", "--memory"]
    args = build_parser().parse_args(translate(["--workloads", "W1,w4", "--threads", "1"]))
    assert args.preset == ["W1", "W4"] and args.n_jobs == 1 and args.memory


def test_bench_euclidean_shim_runs(tmp_path, capsys):
    shim = _shim("bench_euclidean")
    out = tmp_path / "o.json"
    assert main(shim.translate(["--workloads", "W2", "--scale", "0.002", "--no-memory",
                                "--json", str(out), "--threads", "1"])) == 0
    runs = [r for r in read_jsonl(out) if r["schema"] == "benchmark_run"]
    assert {r["workload"] for r in runs} == {"W2"} and all(r["exact"] for r in runs)


# ------------------------------------------------------- the one rule
def test_compare_answers_padding_and_tolerance():
    from sklearn_covertreex.cli.compare import compare_answers

    inf = np.inf
    ref_d, ref_i = np.array([[0.5, inf], [0.1, 0.2]]), np.array([[3, -1], [1, 2]])
    assert compare_answers(ref_d, ref_i, ref_d, ref_i)["exact"] is True
    shifted = compare_answers(ref_d + 1e-9, ref_i, ref_d, ref_i)
    assert shifted["exact"] is False and shifted["max_rel_diff"] == pytest.approx(2e-9)
    assert compare_answers(ref_d + 1e-9, ref_i, ref_d, ref_i, rtol=1e-6)["exact"] is True
    unpadded = compare_answers(np.array([[0.5, 0.9], [0.1, 0.2]]), np.array([[3, 7], [1, 2]]),
                               ref_d, ref_i)
    assert unpadded["exact"] is False and unpadded["padding_match"] is False
    with pytest.raises(ValueError, match="shapes"):
        compare_answers(ref_d[:1], ref_i[:1], ref_d, ref_i)


def test_ckdtree_runner_matches_brute_and_drops_self():
    from sklearn_covertreex.cli.compare import exactness, run_ckdtree, run_sklearn

    rng = np.random.default_rng(3)
    X, Q = rng.normal(size=(300, 3)), rng.normal(size=(20, 3))
    for q, k in ((Q, 1), (Q, 5), (None, 4)):
        got = run_ckdtree("ckdtree", X, q, k, 2)
        ref = run_sklearn("brute", X, q, k, 2)
        assert got.distances.shape == (300 if q is None else 20, k)
        assert exactness(got, ref)["exact"]


def test_h3_preset_is_uniform_in_the_unit_square():
    from sklearn_covertreex.cli.workloads import PRESETS, make_data

    w = PRESETS["H3"]
    assert (w.n, w.n_queries, w.d, w.k) == (1_000_000, 100_000, 2, 8)
    X, Q = make_data(w.scaled(0.001), 0)
    assert X.shape == (1000, 2) and Q.shape == (100, 2)
    assert X.min() >= 0.0 and X.max() < 1.0 and Q.min() >= 0.0 and Q.max() < 1.0
    assert build_parser().parse_args(["bench", "euclidean", "--preset", "h3"]).preset == ["H3"]


def test_brute_reference_distances_come_from_coordinate_differences():
    """Far from the origin the GEMM expansion rounds; the reference's distances must not."""
    from sklearn_covertreex.cli.compare import exact_distances, run_sklearn

    rng = np.random.default_rng(4)
    X = 1e3 + rng.random(size=(2000, 2)) * 1e-2  # close pairs far from the origin
    Q = 1e3 + rng.random(size=(50, 2)) * 1e-2
    for q in (Q, None):
        ref = run_sklearn("brute", X, q, 6, 1)
        rows = X if q is None else q
        want = np.sqrt(((X[ref.ids] - rows[:, None, :]) ** 2).sum(axis=2))
        np.testing.assert_array_equal(ref.distances, want)
        assert np.all(np.diff(ref.distances, axis=1) >= 0)
    d, i = exact_distances(X, Q[:2], np.array([[5, 3, 1], [2, 9, 4]]))
    assert d.shape == i.shape == (2, 3) and np.all(np.diff(d, axis=1) >= 0)
