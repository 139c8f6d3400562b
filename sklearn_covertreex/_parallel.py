"""How the numba kernels run in parallel: GIL-free compiled chunks on Python threads.

The kernels are compiled with ``nogil=True`` and work on a range
``[lo, hi)`` of their rows; :func:`for_chunks` cuts a call into chunks and
hands them, one at a time, to the calling thread and to workers of one
process-wide thread pool. Nothing here touches OpenMP or numba's own
threading layer. Three reasons, all measured on a 2-core machine:

* **Other OpenMP libraries stay at full speed.** numba's ``omp`` threading
  layer (the default where libgomp is present) enables nested OpenMP
  parallelism for the whole process when it starts its threads
  (``omp_get_max_active_levels()`` goes from 1 to 255). A library sharing
  that libgomp and nesting parallel regions (GPBoost does) then
  oversubscribes the cores: one GPBoost likelihood evaluation took 1.4 s
  alone and 184 s after a ``prange`` kernel had run in the same process.
* **Fair under contention.** Chunks are taken from a shared counter, so a
  thread the operating system descheduled holds back only its own chunk,
  and idle workers block on a queue instead of spinning at a barrier.
* **Faster compilation.** ``parallel=True`` kernels go through numba's
  parfor passes, which dominate a cold start.

The thread count of the enclosed kernel calls is set by :func:`threads`, a
context manager over a :class:`contextvars.ContextVar` (so each calling
thread has its own); outside it kernels run on the calling thread only.
The pool starts on the first parallel call, grows to the largest count
asked for, and is dropped in a forked child (its threads do not survive a
fork).
"""

from __future__ import annotations

import contextvars
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

#: Threads the kernel calls of the current context may use.
_THREADS: contextvars.ContextVar[int] = contextvars.ContextVar("covertreex_threads", default=1)

#: Chunks per thread a call is cut into at most (more chunks balance better
#: when a thread is slowed down; each costs a few microseconds of dispatch).
CHUNKS_PER_THREAD = 8


class _Pool:
    """The worker threads: one ``ThreadPoolExecutor``, started and grown on demand."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._size = 0

    def executor(self, workers: int) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None or self._size < workers:
                old = self._executor
                self._executor = ThreadPoolExecutor(workers, thread_name_prefix="covertreex")
                self._size = workers
                if old is not None:
                    old.shutdown(wait=False)
            return self._executor

    def forget(self) -> None:
        """Drop the executor without joining it (its threads are gone after a fork)."""
        self._lock = threading.Lock()
        self._executor = None
        self._size = 0


_POOL = _Pool()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_POOL.forget)


@contextmanager
def threads(n_threads: int) -> Iterator[None]:
    """Run the enclosed kernel calls of this thread on ``n_threads`` threads."""
    token = _THREADS.set(max(1, int(n_threads)))
    try:
        yield
    finally:
        _THREADS.reset(token)


def current_threads() -> int:
    """Threads the kernel calls of the current context may use."""
    return _THREADS.get()


def for_chunks(kernel: Callable[..., object], n: int, args: tuple, *, grain: int) -> None:
    """Run ``kernel(*args, lo, hi)`` over the ranges of a cut of ``[0, n)``.

    Chunks have at least ``grain`` rows (a call of at most ``grain`` rows
    runs on the calling thread alone) and at most ``CHUNKS_PER_THREAD``
    are made per thread. ``kernel`` must write disjoint outputs per range.
    Every chunk has finished when this returns; the first exception raised
    by a chunk is re-raised.
    """
    if n <= 0:
        return
    n_threads = _THREADS.get()
    step = max(int(grain), -(-n // (n_threads * CHUNKS_PER_THREAD)))
    n_chunks = -(-n // step)
    if n_threads == 1 or n_chunks == 1:
        kernel(*args, 0, n)
        return
    counter = itertools.count()

    def drain() -> None:
        while True:
            lo = next(counter) * step
            if lo >= n:
                return
            kernel(*args, lo, min(n, lo + step))

    helpers = min(n_threads, n_chunks) - 1
    executor = _POOL.executor(helpers)
    futures: list[Future] = [executor.submit(drain) for _ in range(helpers)]
    try:
        drain()
    finally:
        errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error
