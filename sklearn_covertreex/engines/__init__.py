"""Indexes that are not the cover tree: the residual-correlation brute-force engines.

:mod:`.residual` holds the fitted :class:`~.residual.ResidualIndex` and the
engine registry; :mod:`.residual_blocked` (compiled tiles on CPU worker
threads) and :mod:`.residual_array` (numpy or cupy whole-array tiles) do
the work.
"""

from .residual import RESIDUAL_ENGINES, ResidualIndex, build_index

__all__ = ["RESIDUAL_ENGINES", "ResidualIndex", "build_index"]
