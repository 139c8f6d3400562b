"""Exact residual-correlation brute force on jax (CPU, GPU or TPU, unchanged).

One jitted **tile step** does the work: the matrix product ``A.W @ B.W.T``,
the kernel part from the scaled coordinates (squares summed feature by
feature), ``1 - |rho|``, the mode's mask (padding, self, predecessors) and
the merge of the tile into each row's running k best with
``jax.lax.top_k``. ``top_k`` puts the lower index first among equal values
and the running best precedes the tile, whose columns come in increasing id
order, so ties keep the smaller id, as the compiled engine does.

Everything runs in float64 inside :func:`~sklearn_covertreex.backends.jax._common.x64`
(a scoped switch; the user's jax configuration is left alone). Tiles are
padded to power-of-two row and column counts, so the number of compilations
is bounded by the few (rows, columns, k, mode) buckets a workload meets.
Kernels without a fast path (any scikit-learn GP kernel) are evaluated on
the host per tile and handed to the same step. Radius queries compute the
tiles on the device and gather the hits on the host (their count is not
known in advance).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..metrics.residual.correlation import correlation_array
from ..metrics.residual.statistics import ResidualModel, ResidualPoints
from .residual_array import sorted_rows
from .residual_blocked import csr_from_pairs

#: Largest query rows per tile.
ROW_BLOCK = 1024

#: Largest data rows per tile.
COL_BLOCK = 8192

_MODES = {"all": 0, "self": 1, "predecessors": 2}


def _jax():
    from ..backends.jax._common import jax_modules

    return jax_modules()


@functools.lru_cache(maxsize=1)
def _steps() -> tuple[Any, Any]:
    """The jitted (tile distances, tile step) functions (built once per process)."""
    jax, jnp = _jax()

    def tile(ca, sa, wa, cb, sb, wb, K, kind, fast):
        G = wa @ wb.T
        if fast:
            r2 = jnp.zeros(G.shape, G.dtype)
            for t in range(ca.shape[1]):
                diff = ca[:, t, None] - cb[None, :, t]
                r2 = r2 + diff * diff
            K = correlation_array(jnp, kind, r2)
        rho = sa[:, None] * sb[None, :] * K - G
        return jnp.maximum(1.0 - jnp.abs(rho), 0.0)

    @functools.partial(jax.jit, static_argnames=("kind", "fast"))
    def distances(ca, sa, wa, cb, sb, wb, K, kind, fast):
        return tile(ca, sa, wa, cb, sb, wb, K, kind, fast)

    @functools.partial(jax.jit, static_argnames=("kind", "fast", "mode", "k"))
    def step(best_d, best_i, ca, sa, wa, cb, sb, wb, K, row0, col0, ncols, kind, fast, mode,
             k):
        d2 = tile(ca, sa, wa, cb, sb, wb, K, kind, fast)
        rows = row0 + jnp.arange(d2.shape[0])[:, None]
        cols = col0 + jnp.arange(d2.shape[1])[None, :]
        bad = cols >= col0 + ncols
        if mode == 1:
            bad = bad | (cols == rows)
        elif mode == 2:
            bad = bad | (cols >= rows)
        d2 = jnp.where(bad, jnp.inf, d2)
        d = jnp.concatenate([best_d, d2], axis=1)
        i = jnp.concatenate([best_i, jnp.broadcast_to(cols, d2.shape)], axis=1)
        neg, pos = jax.lax.top_k(-d, k)
        return -neg, jnp.take_along_axis(i, pos, axis=1)

    return distances, step


def _blocks(n: int, limit: int) -> tuple[int, int]:
    """(tile size, number of tiles) for ``n`` rows: a power of two, at most ``limit``."""
    from ..backends.jax._common import bucket

    size = min(bucket(n, 8), limit)
    return size, -(-n // size)


def _padded(P: ResidualPoints, size: int, count: int) -> tuple[np.ndarray, ...]:
    """coords, s, W padded with zero rows to ``size * count`` rows."""
    from ..backends.jax._common import pad_to

    n = size * count
    return tuple(pad_to(np.ascontiguousarray(a, dtype=np.float64), n)
                 for a in (P.coords, P.s, P.W))


def _host_kernel(model: ResidualModel, Q: ResidualPoints, P: ResidualPoints, rows: slice,
                 cols: slice, shape: tuple[int, int]) -> np.ndarray:
    """The kernel part of a tile without a fast path, evaluated on the host (padded)."""
    K = np.zeros(shape)
    qa, pb = Q.X[rows], P.X[cols]
    if qa.shape[0] and pb.shape[0]:
        K[: qa.shape[0], : pb.shape[0]] = model.kernel(qa, pb)
    return K


def knn_jax(model: ResidualModel, Q: ResidualPoints, P: ResidualPoints, k: int,
            mode: str = "all", row_block: int = ROW_BLOCK,
            col_block: int = COL_BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """k nearest rows of P for every row of Q, with jitted jax tile steps.

    Parameters
    ----------
    model : ResidualModel
        Kernel, inducing points and Cholesky factor.
    Q, P : ResidualPoints
        Query rows and data rows.
    k : int
        Number of neighbours.
    mode : {"all", "self", "predecessors"}
        Every pair; Q is P and a row never lists itself; Q is P and row i
        lists only rows j < i (padded with -1 / inf).
    row_block, col_block : int
        Largest tile (rounded down to the bucket the data needs).

    Returns
    -------
    (distances, ids) : float64 (Q.n, k), int64 (Q.n, k)
        Host arrays, rows ascending by (distance, id).
    """
    from ..backends.jax._common import x64

    jax, jnp = _jax()
    _, step = _steps()
    fast = model.fast is not None
    kind = int(model.fast.kind) if fast else 0
    rsize, rcount = _blocks(Q.n, row_block)
    csize, ccount = _blocks(P.n, col_block)
    out_d = np.empty((Q.n, k))
    out_i = np.empty((Q.n, k), np.int64)
    with x64():
        qc, qs, qw = (jnp.asarray(a) for a in _padded(Q, rsize, rcount))
        pc, ps, pw = (jnp.asarray(a) for a in _padded(P, csize, ccount))
        K0 = jnp.zeros((1, 1))
        for rb in range(rcount):
            r0 = rb * rsize
            rows = slice(r0, min(Q.n, r0 + rsize))
            if rows.start >= rows.stop:
                break
            ra = slice(r0, r0 + rsize)
            best_d = jnp.full((rsize, k), jnp.inf)
            best_i = jnp.full((rsize, k), -1, dtype=jnp.int64)
            for cb in range(ccount):
                c0 = cb * csize
                ncols = min(P.n, c0 + csize) - c0
                if mode == "predecessors" and c0 >= rows.stop:
                    break
                ca = slice(c0, c0 + csize)
                K = K0 if fast else jnp.asarray(_host_kernel(
                    model, Q, P, rows, slice(c0, c0 + ncols), (rsize, csize)))
                best_d, best_i = step(best_d, best_i, qc[ra], qs[ra], qw[ra], pc[ca], ps[ca],
                                      pw[ca], K, r0, c0, ncols, kind=kind, fast=fast,
                                      mode=_MODES[mode], k=k)
            out_d[rows], out_i[rows] = sorted_rows(np.asarray(best_d)[: rows.stop - r0],
                                                   np.asarray(best_i)[: rows.stop - r0])
    return out_d, out_i


def radius_jax(model: ResidualModel, Q: ResidualPoints, P: ResidualPoints, radius: float,
               exclude_self: bool = False, row_block: int = ROW_BLOCK,
               col_block: int = COL_BLOCK) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of P within ``radius`` of each row of Q, as host CSR (indptr, distances, ids).

    The tiles are computed on the device; the hits are gathered on the host.
    """
    from ..backends.jax._common import x64

    _, jnp = _jax()
    distances, _ = _steps()
    fast = model.fast is not None
    kind = int(model.fast.kind) if fast else 0
    rsize, rcount = _blocks(Q.n, row_block)
    csize, ccount = _blocks(P.n, col_block)
    parts = []
    with x64():
        qc, qs, qw = (jnp.asarray(a) for a in _padded(Q, rsize, rcount))
        pc, ps, pw = (jnp.asarray(a) for a in _padded(P, csize, ccount))
        K0 = jnp.zeros((1, 1))
        for rb in range(rcount):
            r0 = rb * rsize
            nr = min(Q.n, r0 + rsize) - r0
            ra = slice(r0, r0 + rsize)
            for cb in range(ccount):
                c0 = cb * csize
                nc = min(P.n, c0 + csize) - c0
                ca = slice(c0, c0 + csize)
                K = K0 if fast else jnp.asarray(_host_kernel(
                    model, Q, P, slice(r0, r0 + nr), slice(c0, c0 + nc), (rsize, csize)))
                d2 = np.asarray(distances(qc[ra], qs[ra], qw[ra], pc[ca], ps[ca], pw[ca], K,
                                          kind=kind, fast=fast))[:nr, :nc]
                hit = d2 <= radius * radius
                if exclude_self:
                    hit &= (c0 + np.arange(nc))[None, :] != (r0 + np.arange(nr))[:, None]
                a, b = np.nonzero(hit)
                parts.append((a + r0, b + c0, np.sqrt(d2[a, b])))
    return csr_from_pairs(parts, Q.n)
