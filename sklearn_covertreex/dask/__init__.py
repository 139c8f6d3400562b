"""The sharded index on a Dask cluster (optional extra: ``pip install 'sklearn_covertreex[dask]'``).

Each shard of the reference set holds its index on the worker that holds
its partition; query blocks travel to the shards and the (distance, id)
lists merge exactly (:func:`~sklearn_covertreex.merge_knn`), so answers
equal the single-machine estimators' for any sharding, ties included.
``import sklearn_covertreex`` does not import this package (nor dask).

* :class:`DaskCoverTreeNeighbors`: Euclidean cover trees per shard.
* :class:`DaskResidualNeighbors`: the residual-correlation brute force per
  shard, with Vecchia predecessor sets by shard order.

See ``doc/dask.md``.
"""

from __future__ import annotations

from ..backends import import_extra

for _module in ("dask", "dask.array", "distributed"):
    import_extra(_module, "dask", "sklearn_covertreex.dask")

from .neighbors import DaskCoverTreeNeighbors  # noqa: E402
from .residual import DaskResidualNeighbors  # noqa: E402

__all__ = ["DaskCoverTreeNeighbors", "DaskResidualNeighbors"]
