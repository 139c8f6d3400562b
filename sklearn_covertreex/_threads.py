"""The one place that turns ``n_jobs`` into a number of threads."""

from __future__ import annotations

import numbers

from joblib import effective_n_jobs
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
    from threadpoolctl import threadpool_info

    check_n_jobs(n_jobs)
    if n_jobs is None:
        _, context_jobs = get_active_backend()
        n_jobs = -1 if context_jobs is None else context_jobs
    n = effective_n_jobs(int(n_jobs))
    for lib in threadpool_info():
        if lib.get("user_api") == "openmp" and lib.get("num_threads"):
            n = min(n, int(lib["num_threads"]))
    return max(1, min(int(n), numba.config.NUMBA_NUM_THREADS))


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
