"""Two ways of making the query tasks: futures pinned to the shards, or a lazy graph.

:mod:`.plan` writes each query once, in terms of ``on_shard(j, fn, *args)``
(a task that needs shard ``j``) and ``anywhere(fn, *args)`` (a merge).

* :class:`PinnedTasks` submits futures now, each shard task **restricted to
  the worker holding that shard**, so query blocks travel to shards and a
  shard never moves (dask's scheduler and work stealing would otherwise copy
  a shard to an idle worker). It is used when the answer comes back as numpy;
  :func:`run_pinned` survives the loss of a shard's worker by waiting for the
  scheduler to rebuild the shard elsewhere and submitting again.
* :class:`LazyTasks` builds ``Delayed`` objects, for dask outputs, computed
  later by the user: shard tasks *prefer* the shard's worker (a loose
  restriction, so the graph still runs if that worker is gone by then). A
  loose restriction does not stop dask's work stealing, which may copy a
  shard to an idle worker; a cluster started with
  ``distributed.scheduler.work-stealing: False`` keeps every shard in place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import dask
from dask import delayed
from distributed import Client, Future, wait


def shard_holders(client: Client, shards: Sequence[Future]) -> list[str]:
    """One worker address holding each shard (waits until every shard is in memory).

    Where a shard has copies on several workers, the one holding the fewest
    shards chosen so far is taken, so the tasks spread over the workers.
    """
    wait(list(shards))
    where = client.who_has(list(shards))
    load: dict[str, int] = {}
    holders = []
    for s in shards:
        best = min(sorted(where[s.key]), key=lambda w: load.get(w, 0))
        load[best] = load.get(best, 0) + 1
        holders.append(best)
    return holders


class PinnedTasks:
    """Futures submitted now; a shard's tasks run on the worker holding that shard."""

    def __init__(self, client: Client, shards: Sequence[Future], holders: Sequence[str]):
        self.client = client
        self.shards = list(shards)
        self.holders = list(holders)

    def on_shard(self, j: int, fn: Callable[..., Any], *args: Any) -> Future:
        """``fn(*args)`` on the worker of shard ``j`` (arrays in ``args`` travel there)."""
        return self.client.submit(fn, *args, workers=[self.holders[j]],
                                  allow_other_workers=False, pure=False)

    def anywhere(self, fn: Callable[..., Any], *args: Any) -> Future:
        """``fn(*args)`` where the scheduler likes (next to its inputs)."""
        return self.client.submit(fn, *args, pure=False)


class LazyTasks:
    """Delayed tasks; a shard's tasks prefer the worker holding that shard."""

    def __init__(self, shards: Sequence[Future], holders: Sequence[str]):
        self.shards = list(shards)
        self.holders = list(holders)

    def on_shard(self, j: int, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)``, preferably on the worker of shard ``j``."""
        with dask.annotate(workers=[self.holders[j]], allow_other_workers=True):
            return delayed(fn, pure=True)(*args)

    def anywhere(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` wherever the scheduler puts it."""
        return delayed(fn, pure=True)(*args)


def run_pinned(client: Client, shards: Sequence[Future],
               make: Callable[[PinnedTasks], list[Future]], *, attempts: int = 4,
               poll_seconds: float = 1.0) -> list[Any]:
    """Submit the tasks ``make`` returns, wait, and gather them.

    If a worker holding a shard leaves while the tasks run (its pinned tasks
    could then never run), the tasks are cancelled, the scheduler rebuilds
    the lost shards from their partitions (their futures are still wanted),
    and everything is submitted again on the new holders.
    """
    for _ in range(attempts):
        holders = shard_holders(client, shards)
        futures = make(PinnedTasks(client, shards, holders))
        while True:
            try:
                wait(futures, timeout=poll_seconds)
            except TimeoutError:
                if set(holders) <= set(client.nthreads()):
                    continue
                client.cancel(futures)
                break
            return client.gather(futures)
    raise RuntimeError(f"workers holding shards were lost {attempts} times during one query")
