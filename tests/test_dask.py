"""The Dask-sharded indexes: exact answers for any sharding, dask in / dask out, faults.

One ``LocalCluster(processes=True, n_workers=2, threads_per_worker=1)`` serves
the module; the fault test kills one of its worker processes during a
query (and waits for the nanny to restart it). Skipped when the ``dask`` extra is not installed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import dask.array as da  # noqa: E402
from conftest import assert_knn_exact, assert_radius_exact  # noqa: E402
from sklearn.gaussian_process.kernels import RBF, ConstantKernel  # noqa: E402

from sklearn_covertreex import CoverTreeNeighbors, ResidualCoverTreeNeighbors  # noqa: E402
from sklearn_covertreex.cli.compare import compare_answers  # noqa: E402
from sklearn_covertreex.cli.residual_bench import RESIDUAL_RTOL, bar_knn  # noqa: E402
from sklearn_covertreex.dask import DaskCoverTreeNeighbors, DaskResidualNeighbors  # noqa: E402

SHARDINGS = (1, 2, 5)


@pytest.fixture(scope="module")
def client():
    """A two-process cluster for the whole module (workers import this checkout)."""
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=":0", silence_logs=40) as cluster, \
            distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def ties():
    """Adversarial data: a coarse grid, so many exact duplicates and equal distances."""
    rng = np.random.default_rng(7)
    X = np.round(rng.normal(size=(1200, 2)), 0) / 2  # few distinct points, many copies
    X = np.vstack([X, np.round(rng.normal(size=(800, 2)), 1)])
    Q = np.vstack([np.round(rng.normal(size=(150, 2)), 1), X[:50]])
    return X, Q


def _equal(a, b):
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def _equal_radius(a, b):
    assert len(a[1]) == len(b[1])
    for (da_, ia), (db, ib) in zip(zip(*a, strict=True), zip(*b, strict=True), strict=True):
        np.testing.assert_array_equal(ia, ib)
        np.testing.assert_array_equal(da_, db)


# ------------------------------------------------------------------ packaging
def test_import_of_the_package_does_not_import_dask():
    code = ("import sys, sklearn_covertreex, sklearn_covertreex.estimators; "
            "assert 'dask' not in sys.modules and 'distributed' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_extra_names_it():
    code = ("import sys; sys.modules['distributed'] = None\n"
            "try:\n    import sklearn_covertreex.dask\n"
            "except ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    assert "sklearn_covertreex[dask]" in out


# ------------------------------------------------------------------ Euclidean
@pytest.mark.parametrize("n_shards", SHARDINGS)
def test_kneighbors_equals_single_machine_and_brute_force(client, ties, n_shards):
    X, Q = ties
    k = 9
    nn = DaskCoverTreeNeighbors(n_neighbors=k, n_shards=n_shards, query_block_size=64).fit(X)
    assert len(nn.shards_) == n_shards and sum(nn.shard_sizes_) == X.shape[0]
    got = nn.kneighbors(Q)
    _equal(got, CoverTreeNeighbors(n_neighbors=k).fit(X).kneighbors(Q))
    assert_knn_exact(X, Q, k, *got)
    assert got[1].dtype == np.intp


@pytest.mark.parametrize("n_shards", SHARDINGS)
def test_fitted_rows_exclude_themselves(client, ties, n_shards):
    X, _ = ties
    nn = DaskCoverTreeNeighbors(n_neighbors=6, n_shards=n_shards).fit(X)
    local = CoverTreeNeighbors(n_neighbors=6).fit(X)
    _equal(nn.kneighbors(), local.kneighbors())
    _equal_radius(nn.radius_neighbors(radius=0.25), local.radius_neighbors(radius=0.25))


@pytest.mark.parametrize("n_shards", SHARDINGS)
def test_radius_neighbors_equal_single_machine(client, ties, n_shards):
    X, Q = ties
    nn = DaskCoverTreeNeighbors(radius=0.3, n_shards=n_shards, query_block_size=50).fit(X)
    got = nn.radius_neighbors(Q)
    _equal_radius(got, CoverTreeNeighbors(radius=0.3).fit(X).radius_neighbors(Q))
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in got[1]])])
    assert_radius_exact(X, Q, 0.3, indptr, np.concatenate(got[0]), np.concatenate(got[1]))
    only = nn.radius_neighbors(Q, return_distance=False)
    assert all(np.array_equal(a, b) for a, b in zip(only, got[1], strict=True))


METRIC_CASES = [("manhattan", {}), ("chebyshev", {}), ("minkowski", {"p": 3}),
                ("cosine", {}), ("haversine", {})]


@pytest.mark.parametrize("metric, params", METRIC_CASES)
@pytest.mark.parametrize("n_shards", (1, 3))
def test_every_metric_equals_single_machine(client, metric, params, n_shards):
    rng = np.random.default_rng(3)
    X = np.round(rng.uniform(-1.2, 1.2, size=(900, 2)), 1)  # ties; lat/lon in radians
    X = X[np.abs(X).sum(axis=1) > 0]  # cosine refuses zero rows
    Q = np.vstack([np.round(rng.uniform(-1.2, 1.2, size=(60, 2)), 1) + 0.05, X[:20]])
    kw = {"metric": metric, **({"p": params["p"]} if "p" in params else {})}
    nn = DaskCoverTreeNeighbors(n_neighbors=7, radius=0.2, n_shards=n_shards,
                                query_block_size=40, **kw).fit(X)
    local = CoverTreeNeighbors(n_neighbors=7, radius=0.2, **kw).fit(X)
    assert nn.effective_metric_ == local.effective_metric_
    _equal(nn.kneighbors(Q), local.kneighbors(Q))
    _equal(nn.kneighbors(), local.kneighbors())
    _equal_radius(nn.radius_neighbors(Q), local.radius_neighbors(Q))
    _equal(nn.to_local().kneighbors(Q), local.kneighbors(Q))


def test_unknown_metric_is_refused_before_any_shard(client, ties):
    nn = DaskCoverTreeNeighbors(metric="braycurtis")
    with pytest.raises(ValueError, match="braycurtis"):
        nn.fit(ties[0])
    assert not hasattr(nn, "shards_")


def test_dask_in_dask_out(client, ties):
    X, Q = ties
    Xd = da.from_array(X, chunks=(450, 2))  # 5 chunks, the last one short
    nn = DaskCoverTreeNeighbors(n_neighbors=5).fit(Xd)
    assert nn.shard_sizes_ == (450, 450, 450, 450, 200)
    dist, ind = nn.kneighbors(da.from_array(Q, chunks=(60, 2)))
    assert isinstance(dist, da.Array) and isinstance(ind, da.Array)
    assert dist.chunks[0] == (60, 60, 60, 20)
    local = CoverTreeNeighbors(n_neighbors=5).fit(X)
    _equal(da.compute(dist, ind), local.kneighbors(Q))
    self_dist, self_ind = nn.kneighbors()
    assert isinstance(self_ind, da.Array)
    _equal(da.compute(self_dist, self_ind), local.kneighbors())
    assert isinstance(nn.kneighbors(Q)[0], np.ndarray)  # numpy in, numpy out


def test_dask_dataframe_and_resharding(client, ties):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, Q = ties
    df = dd.from_pandas(pd.DataFrame(X, columns=["a", "b"]), npartitions=3)
    nn = DaskCoverTreeNeighbors(n_neighbors=4, n_shards=4).fit(df)
    assert len(nn.shards_) == 4 and nn.n_features_in_ == 2
    assert list(nn.feature_names_in_) == ["a", "b"]
    _equal(nn.kneighbors(pd.DataFrame(Q, columns=["a", "b"])),
           CoverTreeNeighbors(n_neighbors=4).fit(X).kneighbors(Q))


def test_partial_fit_appends_shards_and_to_local(client, ties):
    X, Q = ties
    nn = DaskCoverTreeNeighbors(n_neighbors=7, n_shards=2).partial_fit(X[:1100])
    nn.partial_fit(X[1100:])
    assert len(nn.shards_) == 4 and nn.offsets_[2] == 1100 and nn.n_samples_fit_ == X.shape[0]
    local = CoverTreeNeighbors(n_neighbors=7).fit(X)
    _equal(nn.kneighbors(Q), local.kneighbors(Q))
    _equal(nn.kneighbors(), local.kneighbors())
    gathered = nn.to_local()
    assert isinstance(gathered, CoverTreeNeighbors) and gathered.n_samples_fit_ == X.shape[0]
    _equal(gathered.kneighbors(Q), local.kneighbors(Q))
    np.testing.assert_array_equal(nn.fitted_rows(), X)


def test_shards_stay_on_their_workers(client):
    X = np.random.default_rng(1).normal(size=(20_000, 3))
    nn = DaskCoverTreeNeighbors(n_neighbors=4, n_shards=2, query_block_size=500).fit(X)
    before = nn.shard_workers()
    assert all(len(w) == 1 for w in before) and before[0] != before[1]
    nn.kneighbors(X[:6000])
    nn.kneighbors()
    assert nn.shard_workers() == before  # the queries went to the shards, not the reverse


def test_refit_replaces_the_shards(client, ties):
    X, Q = ties
    nn = DaskCoverTreeNeighbors(n_neighbors=3, n_shards=2).fit(X)
    nn.fit(X[::-1].copy())
    _equal(nn.kneighbors(Q), CoverTreeNeighbors(n_neighbors=3).fit(X[::-1]).kneighbors(Q))


def test_errors(client, ties):
    X, Q = ties
    with pytest.raises(ValueError, match="n_shards"):
        DaskCoverTreeNeighbors(n_shards=0).fit(X)
    with pytest.raises(TypeError, match="client"):
        DaskCoverTreeNeighbors(client="tcp://nowhere").fit(X)
    bad = X.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        DaskCoverTreeNeighbors().fit(bad)
    with pytest.raises(ValueError, match="NaN"):
        DaskCoverTreeNeighbors(n_shards=2).fit(da.from_array(bad, chunks=(500, 2)))
    nn = DaskCoverTreeNeighbors(n_neighbors=3, n_shards=2).fit(X[:10])
    with pytest.raises(ValueError, match="expecting 2 features"):
        nn.kneighbors(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="n_neighbors < n_samples_fit"):
        nn.kneighbors(n_neighbors=10)
    with pytest.raises(ValueError, match="n_neighbors <= n_samples_fit"):
        nn.kneighbors(Q, n_neighbors=11)
    with pytest.raises(TypeError, match="to_local"):
        import pickle

        pickle.dumps(nn)


def test_without_a_cluster_the_message_says_how_to_start_one(monkeypatch, ties):
    from sklearn_covertreex.dask import _base

    def no_client():
        raise ValueError("No clients found")

    monkeypatch.setattr(_base, "get_client", no_client)
    with pytest.raises(ValueError, match="LocalCluster"):
        DaskCoverTreeNeighbors().fit(ties[0])


# ------------------------------------------------------------------- residual
@pytest.fixture(scope="module")
def residual_data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(900, 2))
    X[500:520] = X[:20]  # duplicates
    return X, rng.normal(size=(120, 2))


def _residual_params():
    return dict(n_neighbors=6, kernel=ConstantKernel(1.3) * RBF(0.7), inducing_points=24,
                random_state=0)


def _close(a, b):
    verdict = compare_answers(a[0], a[1], b[0], b[1], rtol=RESIDUAL_RTOL)
    assert verdict["exact"], verdict


@pytest.mark.parametrize("n_shards", SHARDINGS)
def test_residual_equals_single_machine_and_brute_force(client, residual_data, n_shards):
    X, Q = residual_data
    nn = DaskResidualNeighbors(**_residual_params(), n_shards=n_shards,
                               query_block_size=50).fit(X)
    local = ResidualCoverTreeNeighbors(**_residual_params()).fit(X)
    np.testing.assert_array_equal(nn.inducing_points_, local.inducing_points_)
    _close(nn.kneighbors(Q), local.kneighbors(Q))
    fitted = nn.kneighbors()
    _close(fitted, local.kneighbors())
    _close(fitted, bar_knn(local.kernel_, local.inducing_points_, 1e-6, X, 6))
    vecchia = nn.vecchia_neighbors(return_distance=True)
    _close(vecchia, local.vecchia_neighbors(return_distance=True))
    _close(vecchia, bar_knn(local.kernel_, local.inducing_points_, 1e-6, X, 6, vecchia=True))
    assert np.all(vecchia[1][0] == -1) and vecchia[1][3, 3] == -1
    got, want = nn.radius_neighbors(Q, radius=0.3), local.radius_neighbors(Q, radius=0.3)
    for (dg, ig), (dw, iw) in zip(zip(*got, strict=True), zip(*want, strict=True),
                                  strict=True):
        assert set(ig.tolist()) == set(iw.tolist())
        np.testing.assert_allclose(np.sort(dg), np.sort(dw), atol=RESIDUAL_RTOL)


def test_residual_on_dask_input_and_to_local(client, residual_data):
    X, Q = residual_data
    nn = DaskResidualNeighbors(**_residual_params()).fit(da.from_array(X, chunks=(250, 2)))
    local = ResidualCoverTreeNeighbors(**_residual_params()).fit(X)
    np.testing.assert_array_equal(nn.inducing_points_, local.inducing_points_)
    vecchia = nn.vecchia_neighbors()
    assert isinstance(vecchia, da.Array)
    _close((np.zeros(vecchia.shape), vecchia.compute()),
           (np.zeros(vecchia.shape), local.vecchia_neighbors()))
    _close(nn.to_local().kneighbors(Q), local.kneighbors(Q))
    with pytest.raises(ValueError, match="random"):
        DaskResidualNeighbors(inducing_selection="kmeans++").fit(da.from_array(X))


# -------------------------------------------------------------------- faults
def test_worker_killed_during_a_query_loses_nothing(client):
    """Kill the process of a worker holding shards while a query runs; the answer is exact."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(40_000, 3))
    Q = rng.normal(size=(30_000, 3))
    nn = DaskCoverTreeNeighbors(n_neighbors=8, n_shards=4, query_block_size=3000).fit(X)
    expected = CoverTreeNeighbors(n_neighbors=8).fit(X).kneighbors(Q)
    victim = sorted(nn.shard_workers()[0])[0]
    pid = client.run(os.getpid, workers=[victim])[victim]
    dist, ind = nn.kneighbors(da.from_array(Q, chunks=(3000, 3)))
    futures = client.compute([dist, ind])
    os.kill(pid, signal.SIGKILL)
    distributed.wait(futures, timeout=240)
    _equal(client.gather(futures), expected)
    assert victim not in set().union(*nn.shard_workers())  # rebuilt elsewhere
    _equal(nn.kneighbors(Q[:500]), (expected[0][:500], expected[1][:500]))
    client.wait_for_workers(2, timeout=120)


def test_bench_dask_small_run(tmp_path, capsys):
    from sklearn_covertreex.cli import main
    from sklearn_covertreex.telemetry import read_jsonl

    out = tmp_path / "dask.jsonl"
    assert main(["bench", "dask", "--n", "3000", "--queries", "300", "--k", "4",
                 "--workers", "1", "--residual-n", "0", "--out", str(out)]) == 0
    records = read_jsonl(out)
    assert [r["method"] for r in records] == ["single", "dask"]
    assert records[1]["identical"] is True and records[1]["exact"] is True
    assert "identical" in capsys.readouterr().out


def test_worker_killed_during_a_numpy_query_loses_nothing(client):
    """The same, for an in-memory query (tasks pinned to the shards' workers)."""
    from concurrent.futures import ThreadPoolExecutor

    client.wait_for_workers(2, timeout=120)
    rng = np.random.default_rng(12)
    X = rng.normal(size=(40_000, 3))
    Q = rng.normal(size=(30_000, 3))
    nn = DaskCoverTreeNeighbors(n_neighbors=8, n_shards=2, query_block_size=2000).fit(X)
    expected = CoverTreeNeighbors(n_neighbors=8).fit(X).kneighbors(Q)
    victim = sorted(nn.shard_workers()[1])[0]
    pid = client.run(os.getpid, workers=[victim])[victim]
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(nn.kneighbors, Q)
        import time

        time.sleep(0.3)
        os.kill(pid, signal.SIGKILL)
        got = running.result(timeout=240)
    _equal(got, expected)
    client.wait_for_workers(2, timeout=120)
