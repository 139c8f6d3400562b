"""The sharded queries, written once: query blocks to shards, pairwise merges.

Every function takes a task maker (:mod:`.tasks`: futures pinned to the
shards, or a lazy graph) and returns the answers' tasks; nothing waits.
For each query block, one task per shard answers it on the worker holding
that shard (the block travels, the shard stays), and the partial answers
are merged in a balanced tree of pairwise merges (:func:`reduce_pairwise`),
each merge running next to its inputs. A merge holds two answers of
``block × k`` pairs, so no task materialises more than
``query_block_size × k × 2`` pairs, and the whole graph at most
``n_queries × k × n_shards``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import shard as S


def reduce_pairwise(tasks: Any, parts: Sequence[Any], merge: Callable[..., Any],
                    *args: Any) -> Any:
    """Merge ``parts`` two at a time, level by level, into one task.

    ``merge(a, b, *args)`` must be associative; for the exact k-NN merge it
    is, and the result does not depend on the order of the parts.
    """
    parts = list(parts)
    if not parts:
        raise ValueError("nothing to merge")
    while len(parts) > 1:
        merged = [tasks.anywhere(merge, parts[j], parts[j + 1], *args)
                  for j in range(0, len(parts) - 1, 2)]
        if len(parts) % 2:
            merged.append(parts[-1])
        parts = merged
    return parts[0]


def knn_block(tasks: Any, block: Any, k: int) -> Any:
    """The exact k-NN answer (distances, global ids) of one query block over all shards."""
    parts = [tasks.on_shard(j, S.shard_knn, s, block, k) for j, s in enumerate(tasks.shards)]
    return reduce_pairwise(tasks, parts, S.merge_knn_pair, k)


def radius_block(tasks: Any, block: Any, r: float) -> Any:
    """The radius answer (CSR, global ids) of one query block over all shards."""
    parts = [tasks.on_shard(j, S.shard_radius, s, block, r)
             for j, s in enumerate(tasks.shards)]
    return reduce_pairwise(tasks, parts, S.merge_csr_pair)


def shard_rows(tasks: Any) -> list[Any]:
    """Each shard's rows (float64, id order), as tasks on the shards' workers."""
    return [tasks.on_shard(j, S.shard_rows, s) for j, s in enumerate(tasks.shards)]


def knn_fitted(tasks: Any, offsets: Sequence[int], k: int) -> list[Any]:
    """Per shard, the k-NN of its own rows over all shards, each row's own id excluded.

    The rows of a shard are its query block: they travel to every other
    shard (``k + 1`` neighbours are asked, then the row's own global id is
    dropped as the single-machine ``knn_self`` drops it).
    """
    return [tasks.anywhere(S.drop_self_knn_task, knn_block(tasks, rows, k + 1), offset)
            for rows, offset in zip(shard_rows(tasks), offsets, strict=True)]


def radius_fitted(tasks: Any, offsets: Sequence[int], r: float) -> list[Any]:
    """Per shard, the radius answer of its own rows over all shards, self excluded."""
    return [tasks.anywhere(S.drop_self_csr_task, radius_block(tasks, rows, r), offset)
            for rows, offset in zip(shard_rows(tasks), offsets, strict=True)]


def vecchia_fitted(tasks: Any, k: int) -> list[Any]:
    """Per shard, each row's k nearest rows among the smaller global ids.

    Shard order is id order, so a row's predecessors are the earlier rows of
    its own shard (the shard's own Vecchia answer) and every row of every
    earlier shard (a plain k-NN query of its rows there); the merge of the
    two is exact. The first shard needs nothing but its own answer.
    """
    out = []
    for j, (s, rows) in enumerate(zip(tasks.shards, shard_rows(tasks), strict=True)):
        own = tasks.on_shard(j, S.shard_vecchia, s, k)
        earlier = [tasks.on_shard(t, S.shard_knn, tasks.shards[t], rows, k) for t in range(j)]
        out.append(reduce_pairwise(tasks, [own, *earlier], S.merge_knn_pair, k))
    return out
