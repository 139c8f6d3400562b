"""The launch scheme of the kernels: chunks on Python threads, results independent of it.

Functional checks only (no timings): every range is run once, errors
surface, answers do not depend on the thread count or on joblib /
threadpoolctl limits, and running the estimators leaves the process's
OpenMP state as it was (numba's OpenMP layer switched nesting on for every
library in the process; see :mod:`sklearn_covertreex._parallel`).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
from joblib import parallel_backend
from threadpoolctl import threadpool_limits

from sklearn_covertreex import CoverTreeNeighbors, ResidualCoverTreeNeighbors
from sklearn_covertreex._parallel import CHUNKS_PER_THREAD, current_threads, for_chunks, threads


def _record(hits, lock):
    def kernel(tag, lo, hi):
        assert tag == "t"
        with lock:
            hits.append((lo, hi, threading.get_ident()))
    return kernel


@pytest.mark.parametrize("n_threads", [1, 2, 3, 8])
@pytest.mark.parametrize("n, grain", [(0, 4), (1, 4), (7, 4), (1000, 1), (1000, 64), (64, 64)])
def test_for_chunks_runs_every_row_once(n_threads, n, grain):
    hits, lock = [], threading.Lock()
    with threads(n_threads):
        for_chunks(_record(hits, lock), n, ("t",), grain=grain)
    covered = np.zeros(n, int)
    for lo, hi, _ in hits:
        assert 0 <= lo < hi <= n
        assert hi - lo >= min(grain, n) or hi == n
        covered[lo:hi] += 1
    assert np.all(covered == 1)
    assert len(hits) <= max(1, n_threads * CHUNKS_PER_THREAD + 1)
    if n_threads == 1 or n <= grain:
        assert len(hits) <= 1


def test_for_chunks_raises_the_chunk_error_after_all_chunks_ran():
    done = []

    def kernel(lo, hi):
        done.append(lo)
        if lo == 0:
            raise ValueError("bad chunk")

    with threads(4), pytest.raises(ValueError, match="bad chunk"):
        for_chunks(kernel, 100, (), grain=1)
    step = -(-100 // (4 * CHUNKS_PER_THREAD))
    assert sorted(done) == list(range(0, 100, step))  # every chunk ran, once


def test_threads_context_is_per_thread_and_nests():
    assert current_threads() == 1
    seen = []
    with threads(3):
        assert current_threads() == 3
        with threads(2):
            assert current_threads() == 2
        assert current_threads() == 3
        t = threading.Thread(target=lambda: seen.append(current_threads()))
        t.start()
        t.join()
    assert current_threads() == 1
    assert seen == [1]


def _data(n=3000, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[::7] = X[1::7][: X[::7].shape[0]]  # duplicates, so ties exist
    return X, rng.normal(size=(500, d))


def test_answers_do_not_depend_on_threads_or_limits():
    X, Q = _data()
    ref_d, ref_i = CoverTreeNeighbors(n_neighbors=8, n_jobs=1).fit(X).kneighbors(Q)
    for n_jobs in (2, 3, -1, None):
        est = CoverTreeNeighbors(n_neighbors=8, n_jobs=n_jobs).fit(X)
        d, i = est.kneighbors(Q)
        np.testing.assert_array_equal(i, ref_i)
        np.testing.assert_array_equal(d, ref_d)
        sd, si = est.kneighbors()
        sd1, si1 = CoverTreeNeighbors(n_neighbors=8, n_jobs=1).fit(X).kneighbors()
        np.testing.assert_array_equal(si, si1)
        np.testing.assert_array_equal(sd, sd1)
    with threadpool_limits(limits=1, user_api="openmp"):
        d, i = CoverTreeNeighbors(n_neighbors=8).fit(X).kneighbors(Q)
    np.testing.assert_array_equal(i, ref_i)
    with parallel_backend("threading", n_jobs=2):
        d, i = CoverTreeNeighbors(n_neighbors=8).fit(X).kneighbors(Q)
    np.testing.assert_array_equal(i, ref_i)
    r = float(np.median(ref_d[:, -1]))
    rd1, ri1 = CoverTreeNeighbors(n_jobs=1).fit(X).radius_neighbors(Q, r, sort_results=True)
    rd2, ri2 = CoverTreeNeighbors(n_jobs=3).fit(X).radius_neighbors(Q, r, sort_results=True)
    for a, b in zip(ri1, ri2, strict=True):
        np.testing.assert_array_equal(a, b)


def test_concurrent_callers_get_their_own_answers():
    X, Q = _data()
    est = CoverTreeNeighbors(n_neighbors=5, n_jobs=2).fit(X)
    ref = est.kneighbors(Q)[1]
    out = [None] * 4

    def work(t):
        out[t] = est.kneighbors(Q[t::2] if t % 2 else Q)[1]

    workers = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    np.testing.assert_array_equal(out[0], ref)
    np.testing.assert_array_equal(out[1], ref[1::2])


_FORKED_CHILD = textwrap.dedent("""
    import multiprocessing
    import numpy as np
    from sklearn_covertreex import CoverTreeNeighbors

    def query(args):
        X, Q = args
        return CoverTreeNeighbors(n_neighbors=4, n_jobs=2).fit(X).kneighbors(Q)[1]

    if __name__ == "__main__":
        rng = np.random.default_rng(0)
        X, Q = rng.normal(size=(2000, 3)), rng.normal(size=(200, 3))
        ref = query((X, Q))  # the parent's thread pool is started
        with multiprocessing.get_context("fork").Pool(1) as pool:
            got = pool.map(query, [(X, Q)])[0]
        print(bool(np.array_equal(got, ref)))
""")


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_parallel_kernels_work_in_a_forked_child(tmp_path):
    # in a fresh interpreter: this one may hold threads of other libraries
    # (jax, dask) that make forking it unsafe
    script = tmp_path / "forked_child.py"
    script.write_text(_FORKED_CHILD)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=600, check=True).stdout.split()
    assert out == ["True"], out


_OPENMP_STATE = textwrap.dedent("""
    import ctypes, ctypes.util, numpy as np
    from sklearn_covertreex import CoverTreeNeighbors, ResidualCoverTreeNeighbors
    name = ctypes.util.find_library("gomp")
    gomp = ctypes.CDLL(name) if name else None
    def state():
        if gomp is None:
            return None
        gomp.omp_get_max_active_levels.restype = ctypes.c_int
        gomp.omp_get_dynamic.restype = ctypes.c_int
        return (gomp.omp_get_max_active_levels(), gomp.omp_get_dynamic())
    before = state()
    X = np.random.default_rng(0).normal(size=(3000, 3))
    CoverTreeNeighbors(n_jobs=2).fit(X).kneighbors()
    est = ResidualCoverTreeNeighbors(n_neighbors=4, inducing_points=16, n_jobs=2)
    est.fit(X[:500]).kneighbors()
    import numba
    try:
        layer = numba.threading_layer()
    except ValueError:
        layer = "none"
    print(before == state(), layer)
""")


def test_estimators_leave_openmp_and_numba_threading_untouched():
    out = subprocess.run([sys.executable, "-c", _OPENMP_STATE], capture_output=True, text=True,
                         timeout=600, check=True).stdout.split()
    assert out == ["True", "none"], out


def test_residual_answers_do_not_depend_on_threads():
    X, _ = _data(n=800, d=2)
    one = ResidualCoverTreeNeighbors(n_neighbors=6, inducing_points=20, n_jobs=1, random_state=0)
    two = ResidualCoverTreeNeighbors(n_neighbors=6, inducing_points=20, n_jobs=2, random_state=0)
    d1, i1 = one.fit(X).kneighbors()
    d2, i2 = two.fit(X).kneighbors()
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_allclose(d1, d2, rtol=0, atol=0)
