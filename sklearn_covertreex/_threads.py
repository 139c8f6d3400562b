"""The one place that turns ``n_jobs`` into a number of threads."""

from __future__ import annotations

import functools
import numbers

from joblib import cpu_count, effective_n_jobs
from joblib.parallel import get_active_backend


def check_n_jobs(n_jobs: object) -> None:
    """``n_jobs`` must be None or a non-zero int (``ValueError`` otherwise)."""
    if n_jobs is not None and (
        isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0
    ):
        raise ValueError(f"n_jobs must be None or a non-zero integer, got {n_jobs!r}")


def resolve_n_jobs(n_jobs: int | None) -> int:
    """Threads for a call, respecting joblib's and threadpoolctl's context.

    ``None`` uses the ``n_jobs`` of an enclosing ``joblib.parallel_backend``
    context if there is one, else every core (as scikit-learn's own OpenMP
    neighbour kernels do); ``-1`` is every core, ``-2`` all but one, and so
    on. An OpenMP limit set with ``threadpoolctl.threadpool_limits`` caps the
    result, and so does the number of threads numba was started with (a
    joblib worker process gets ``cpu_count // n_jobs`` of them).

    Raises
    ------
    ValueError
        If ``n_jobs`` is not None or a non-zero integer.
    """
    import numba

    check_n_jobs(n_jobs)
    if n_jobs is None:
        _, context_jobs = get_active_backend()
        n_jobs = -1 if context_jobs is None else context_jobs
    n_jobs = int(n_jobs)
    if n_jobs < 0:  # counted from this machine's cores, as joblib does
        n_jobs = max(_cpu_count() + 1 + n_jobs, 1)
    n = effective_n_jobs(n_jobs)  # the active backend's rules (nested calls, workers)
    for lib in _openmp_libraries():
        limit = lib.num_threads
        if limit:
            n = min(n, int(limit))
    return max(1, min(int(n), numba.config.NUMBA_NUM_THREADS))


@functools.lru_cache(maxsize=1)
def _cpu_count() -> int:
    """joblib's count of the cores this process may use, read once.

    It reads the cgroup and affinity settings (0.14 ms a call, most of a
    single-row query's time); the thread count it feeds is capped by
    numba's, which is fixed at start-up anyway.
    """
    return int(cpu_count())


@functools.lru_cache(maxsize=1)
def _openmp_libraries() -> tuple:
    """threadpoolctl's controllers of the OpenMP runtimes loaded at the first call.

    Finding the loaded libraries takes milliseconds (it walks every shared
    object of the process); reading a found one's current thread count takes
    microseconds, so single-row queries stay cheap. A
    ``threadpool_limits(..., user_api="openmp")`` block sets the limit on
    every runtime loaded when it starts, these included.
    """
    from threadpoolctl import ThreadpoolController

    return tuple(lib for lib in ThreadpoolController().lib_controllers
                 if lib.user_api == "openmp")


def kernel_threads(n_jobs: int | None) -> int:
    """Threads for the kernels of one low-level call (``Runtime.n_jobs``).

    A positive count is used as given (capped at numba's thread count): the
    estimators pass counts already resolved by :func:`resolve_n_jobs`, so
    the (several-millisecond) threadpool inspection runs once per estimator
    call, not once per kernel call. None or a negative count is resolved by
    :func:`resolve_n_jobs`.
    """
    if n_jobs is not None and n_jobs > 0:
        import numba

        return max(1, min(int(n_jobs), numba.config.NUMBA_NUM_THREADS))
    return resolve_n_jobs(n_jobs)
