"""Task graphs of the sharded queries: query blocks to shards, pairwise merges.

Every function here returns dask ``Delayed`` objects whose leaves are the
shard futures and the query blocks; nothing is computed. For each query
block, one task per shard answers it on the worker holding that shard
(the block travels, the shard stays), and the partial answers are merged
in a balanced tree of pairwise merges (:func:`reduce_pairwise`), each merge
running where one of its inputs already is. A merge holds two answers of
``block × k`` pairs, so no task materialises more than
``query_block_size × k × 2`` pairs, and the whole graph at most
``n_queries × k × n_shards``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dask import delayed

from . import shard as S


def reduce_pairwise(parts: Sequence[Any], merge: Callable[..., Any], *args: Any,
                    name: str = "merge") -> Any:
    """Merge ``parts`` two at a time, level by level, into one Delayed.

    ``merge(a, b, *args)`` must be associative; for the exact k-NN merge it
    is, and the result does not depend on the order of the parts.
    """
    parts = list(parts)
    if not parts:
        raise ValueError("nothing to merge")
    while len(parts) > 1:
        merged = [delayed(merge, pure=True)(parts[j], parts[j + 1], *args)
                  for j in range(0, len(parts) - 1, 2)]
        if len(parts) % 2:
            merged.append(parts[-1])
        parts = merged
    return parts[0]


def knn_block(shards: Sequence[Any], block: Any, k: int) -> Any:
    """The exact k-NN answer (distances, global ids) of one query block over all shards."""
    parts = [delayed(S.shard_knn, pure=True)(s, block, k) for s in shards]
    return reduce_pairwise(parts, S.merge_knn_pair, k)


def radius_block(shards: Sequence[Any], block: Any, r: float) -> Any:
    """The radius answer (CSR, global ids) of one query block over all shards."""
    parts = [delayed(S.shard_radius, pure=True)(s, block, r) for s in shards]
    return reduce_pairwise(parts, S.merge_csr_pair)


def knn_fitted(shards: Sequence[Any], offsets: Sequence[int], k: int) -> list[Any]:
    """Per shard, the k-NN of its own rows over all shards, each row's own id excluded.

    The rows of a shard are its query block: they travel to every other
    shard (``k + 1`` neighbours are asked, then the row's own global id is
    dropped as the single-machine ``knn_self`` drops it).
    """
    out = []
    for s, offset in zip(shards, offsets, strict=True):
        rows = delayed(S.shard_rows, pure=True)(s)
        merged = knn_block(shards, rows, k + 1)
        out.append(delayed(S.drop_self_knn_task, pure=True)(merged, offset))
    return out


def radius_fitted(shards: Sequence[Any], offsets: Sequence[int], r: float) -> list[Any]:
    """Per shard, the radius answer of its own rows over all shards, self excluded."""
    out = []
    for s, offset in zip(shards, offsets, strict=True):
        rows = delayed(S.shard_rows, pure=True)(s)
        merged = radius_block(shards, rows, r)
        out.append(delayed(S.drop_self_csr_task, pure=True)(merged, offset))
    return out


def vecchia_fitted(shards: Sequence[Any], k: int) -> list[Any]:
    """Per shard, each row's k nearest rows among the smaller global ids.

    Shard order is id order, so a row's predecessors are the earlier rows of
    its own shard (the shard's own Vecchia answer) and every row of every
    earlier shard (a plain k-NN query of its rows there); the merge of the
    two is exact. The first shard needs nothing but its own answer.
    """
    out = []
    for j, s in enumerate(shards):
        own = delayed(S.shard_vecchia, pure=True)(s, k)
        if j == 0:
            out.append(own)
            continue
        rows = delayed(S.shard_rows, pure=True)(s)
        earlier = [delayed(S.shard_knn, pure=True)(t, rows, k) for t in shards[:j]]
        out.append(reduce_pairwise([own, *earlier], S.merge_knn_pair, k))
    return out
