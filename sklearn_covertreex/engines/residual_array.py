"""Exact residual-correlation queries with array operations (numpy or cupy).

The same blocked brute force as :mod:`.residual_blocked`, written with whole-array
operations of an array module ``xp``: with numpy it is the readable
reference, with cupy it runs on an NVIDIA GPU (matrix products in cuBLAS,
the rest as element-wise kernels). A block of query rows is compared with
every data row; a running top-k per row is kept with ``argpartition`` and
each row's k results are then ordered by (distance, id). Ties at the k-th
distance may keep a different id than the compiled engine (which keeps the
smaller one); distances agree.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from ..metrics.residual.correlation import CUDA_CORRELATION, correlation_array
from ..metrics.residual.statistics import ResidualModel, ResidualPoints
from .residual_blocked import csr_from_pairs

#: Query rows per block (block x n float64 arrays live on the device).
ROW_BLOCK = 2048

#: Data rows per block.
COL_BLOCK = 32768


@dataclass(frozen=True)
class DevicePoints:
    """:class:`ResidualPoints` moved to the array module's device."""

    host: ResidualPoints
    coords: Any
    W: Any
    s: Any

    @classmethod
    def of(cls, xp: ModuleType, P: ResidualPoints) -> DevicePoints:
        return cls(P, xp.asarray(P.coords), xp.asarray(P.W), xp.asarray(P.s))

    def rows(self, block: slice) -> DevicePoints:
        return DevicePoints(self.host.rows(block), self.coords[block], self.W[block],
                            self.s[block])


_CUDA_TILE = r"""
long long r = i / ncols, c = i % ncols;
double r2 = 0.0;
for (int t = 0; t < dim; ++t) {
    double diff = ca[r * dim + t] - cb[c * dim + t];
    r2 += diff * diff;
}
""" + CUDA_CORRELATION + r"""
double v = 1.0 - fabs(sa[r] * sb[c] * g - w);
v = v > 0.0 ? v : 0.0;
long long gr = row0 + r, gc = col0 + c;
if ((mode == 1 && gc == gr) || (mode == 2 && gc >= gr)) v = 1.0 / 0.0;
out = v;
"""

_MODES = {"none": 0, "self": 1, "predecessors": 2}


@functools.lru_cache(maxsize=4)
def _tile_kernel(xp: ModuleType) -> Any:
    """The fused tile kernel of an array module (compiled once, like numba's kernels)."""
    return xp.ElementwiseKernel(
        "float64 w, raw float64 ca, raw float64 cb, raw float64 sa, raw float64 sb, "
        "int64 ncols, int32 dim, int32 kind, int64 row0, int64 col0, int32 mode",
        "float64 out", _CUDA_TILE, "residual_sq_distance")


def _fused_tile(xp: ModuleType, kind: int, A: DevicePoints, B: DevicePoints, G: Any,
                row0: int, col0: int, mode: str) -> Any:
    """One CUDA pass: kernel part, ``1 - |rho|`` and the mode's mask (cupy, fast path)."""
    return _tile_kernel(xp)(
        G, xp.ascontiguousarray(A.coords), xp.ascontiguousarray(B.coords), A.s, B.s,
        np.int64(G.shape[1]), np.int32(A.coords.shape[1]), np.int32(kind),
        np.int64(row0), np.int64(col0), np.int32(_MODES.get(mode, 0)))


def tile_sq_distances(xp: ModuleType, model: ResidualModel, A: DevicePoints,
                      B: DevicePoints) -> Any:
    """``1 - |rho(A, B)|`` as a device array of shape (A.n, B.n)."""
    G = A.W @ B.W.T
    if model.fast is not None:
        r2 = xp.zeros_like(G)
        for t in range(A.coords.shape[1]):
            diff = A.coords[:, t, None] - B.coords[None, :, t]
            r2 += diff * diff
        K = correlation_array(xp, model.fast.kind, r2)
    else:  # any scikit-learn kernel: evaluated on the host
        K = xp.asarray(np.asarray(model.kernel(A.host.X, B.host.X), dtype=np.float64))
    rho = A.s[:, None] * B.s[None, :] * K - G
    return xp.maximum(1.0 - xp.abs(rho), 0.0)


def _topk(xp: ModuleType, best_d: Any, best_i: Any, d2: Any, ids: Any, k: int):
    d = xp.concatenate([best_d, d2], axis=1)
    i = xp.concatenate([best_i, xp.broadcast_to(ids, d2.shape)], axis=1)
    if d.shape[1] > k:
        part = xp.argpartition(d, k - 1, axis=1)[:, :k]
        d, i = xp.take_along_axis(d, part, 1), xp.take_along_axis(i, part, 1)
    return d, i


def _to_host(xp: ModuleType, a: Any) -> np.ndarray:
    return a.get() if hasattr(a, "get") else np.asarray(a)


def sorted_rows(d2: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Host rows of k best (squared distance, id) pairs: sorted, distances, -1 where unfilled.

    Parameters
    ----------
    d2 : ndarray of shape (rows, k)
        Squared distances (inf where a row has fewer than k candidates).
    ids : ndarray of shape (rows, k)

    Returns
    -------
    distances, ids : ndarrays of shape (rows, k), ascending by (distance, id)
    """
    order = np.lexsort((ids, d2), axis=1)
    d2 = np.take_along_axis(d2, order, 1)
    ids = np.take_along_axis(ids, order, 1)
    ids[~np.isfinite(d2)] = -1
    return np.sqrt(d2), ids


def knn_array(xp: ModuleType, model: ResidualModel, Q: ResidualPoints, P: ResidualPoints,
              k: int, mode: str = "all", row_block: int = ROW_BLOCK,
              col_block: int = COL_BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """k nearest rows of P for every row of Q, on the device of ``xp``.

    ``mode``: "all" (every pair), "self" (Q is P; a row never lists itself)
    or "predecessors" (Q is P; row i lists only rows j < i, padded with -1 /
    inf). Returns host arrays (distances, ids), rows ascending by (distance, id).
    On cupy with a fast-path kernel, each tile is one fused CUDA pass.
    """
    fused = model.fast is not None and hasattr(xp, "ElementwiseKernel")
    Qd, Pd = DevicePoints.of(xp, Q), DevicePoints.of(xp, P)
    out_d = np.empty((Q.n, k))
    out_i = np.empty((Q.n, k), np.int64)
    for r0 in range(0, Q.n, row_block):
        rows = slice(r0, min(Q.n, r0 + row_block))
        A = Qd.rows(rows)
        row_ids = xp.arange(rows.start, rows.stop)[:, None]
        best_d = xp.full((A.host.n, 0), np.inf)
        best_i = xp.zeros((A.host.n, 0), dtype=xp.int64)
        for c0 in range(0, P.n, col_block):
            cols = slice(c0, min(P.n, c0 + col_block))
            if mode == "predecessors" and cols.start >= rows.stop:
                break
            col_ids = xp.arange(cols.start, cols.stop)[None, :]
            B = Pd.rows(cols)
            if fused:
                d2 = _fused_tile(xp, model.fast.kind, A, B, A.W @ B.W.T, rows.start,
                                 cols.start, mode)
            else:
                d2 = tile_sq_distances(xp, model, A, B)
                if mode == "self":
                    d2 = xp.where(col_ids == row_ids, np.inf, d2)
                elif mode == "predecessors":
                    d2 = xp.where(col_ids >= row_ids, np.inf, d2)
            best_d, best_i = _topk(xp, best_d, best_i, d2, col_ids, k)
        if best_d.shape[1] < k:  # fewer data rows than k (predecessor rows near the top)
            pad = k - best_d.shape[1]
            best_d = xp.concatenate([best_d, xp.full((A.host.n, pad), np.inf)], axis=1)
            best_i = xp.concatenate([best_i, xp.full((A.host.n, pad), -1, dtype=xp.int64)],
                                    axis=1)
        out_d[rows], out_i[rows] = sorted_rows(_to_host(xp, best_d), _to_host(xp, best_i))
    return out_d, out_i


def radius_array(xp: ModuleType, model: ResidualModel, Q: ResidualPoints, P: ResidualPoints,
                 radius: float, exclude_self: bool = False, row_block: int = ROW_BLOCK,
                 col_block: int = COL_BLOCK) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of P within ``radius`` of each row of Q, as host CSR (indptr, distances, ids)."""
    Qd, Pd = DevicePoints.of(xp, Q), DevicePoints.of(xp, P)
    parts = []
    for r0 in range(0, Q.n, row_block):
        rows = slice(r0, min(Q.n, r0 + row_block))
        A = Qd.rows(rows)
        for c0 in range(0, P.n, col_block):
            cols = slice(c0, min(P.n, c0 + col_block))
            d2 = tile_sq_distances(xp, model, A, Pd.rows(cols))
            hit = d2 <= radius * radius
            if exclude_self:
                col_ids = xp.arange(cols.start, cols.stop)[None, :]
                row_ids = xp.arange(rows.start, rows.stop)[:, None]
                hit &= col_ids != row_ids
            a, b = xp.nonzero(hit)
            parts.append((_to_host(xp, a) + rows.start, _to_host(xp, b) + cols.start,
                          np.sqrt(_to_host(xp, d2[a, b]))))
    return csr_from_pairs(parts, Q.n)
