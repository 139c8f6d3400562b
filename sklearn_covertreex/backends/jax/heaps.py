"""Fixed-capacity structures of the jax kernels: frontiers, best lists, CSR expansion.

jit needs static shapes, so a per-query search keeps its frontier and its
best list in arrays of a fixed capacity with a validity mask, and each step
expands a fixed number ``E`` of children taken from the frontier entries
with the smallest lower bounds (best-first in batches; an entry whose
children are not all taken keeps a cursor, like the numpy kernels'
``_advance``). When a structure would need more room than it has, the step
raises an overflow flag instead of dropping anything; the host driver
(:func:`run_with_retry`) reruns exactly those queries with doubled
capacities, so answers stay exact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: Overflow bits: the frontier, the best list and the id expansion.
OVER_FRONTIER, OVER_BEST, OVER_IDS = 1, 2, 4

#: Largest capacity tried before giving up (a bug, not a workload, would reach it).
MAX_CAPACITY = 1 << 24


def expand_ranges(jnp: Any, starts: Any, lens: Any, cap: int) -> tuple[Any, Any, Any, Any]:
    """The first ``cap`` positions of the concatenated ranges ``starts[a]:starts[a]+lens[a]``.

    Returns (positions, owner, valid, taken): ``owner`` is the range each
    position comes from, ``valid`` masks the real positions and ``taken[a]``
    is how many positions of range ``a`` fit (traced, one query).
    """
    cum = jnp.cumsum(lens)
    first = cum - lens
    j = jnp.arange(cap)
    owner = jnp.minimum(jnp.searchsorted(cum, j, side="right"), lens.shape[0] - 1)
    valid = j < cum[-1]
    pos = starts[owner] + j - first[owner]
    taken = jnp.clip(cap - first, 0, lens)
    return jnp.where(valid, pos, 0), owner, valid, taken


def compact(jnp: Any, valid: Any, cap: int, *arrays: Any) -> tuple[Any, Any, list[Any]]:
    """The valid entries moved to the front, truncated to ``cap``: (valid, overflow, arrays)."""
    order = jnp.argsort(~valid, stable=True)[:cap]
    overflow = valid.sum() > cap
    return valid[order], overflow, [a[order] for a in arrays]


def next_capacity(caps: dict[str, int], flags: np.ndarray, bits: dict[str, int]) -> dict[str, int]:
    """Capacities doubled for every structure whose overflow bit is set in ``flags``."""
    seen = int(np.bitwise_or.reduce(flags)) if flags.size else 0
    out = dict(caps)
    for name, bit in bits.items():
        if seen & bit:
            out[name] = caps[name] * 2
            if out[name] > MAX_CAPACITY:
                raise RuntimeError(f"jax search capacity {name!r} exceeded {MAX_CAPACITY}")
    return out


def run_with_retry(run: Callable[[np.ndarray, dict[str, int]], tuple[np.ndarray, ...]],
                   n: int, caps: dict[str, int], bits: dict[str, int]) -> tuple[np.ndarray, ...]:
    """Call ``run(rows, caps)``; rerun the rows whose overflow flag (last output) is set.

    ``run`` returns host arrays with one leading entry per row, the last
    being the overflow flags. Capacities double for the structures that
    overflowed until no row overflows; the answers of every row then come
    from a search that dropped nothing.
    """
    rows = np.arange(n)
    out = None
    while rows.size:
        res = run(rows, caps)
        flags = res[-1]
        if out is None:
            out = [np.empty((n, *r.shape[1:]), r.dtype) for r in res]
        for o, r in zip(out, res, strict=True):
            o[rows] = r
        bad = flags != 0
        caps = next_capacity(caps, flags[bad], bits)
        rows = rows[bad]
    assert out is not None
    return tuple(out)
