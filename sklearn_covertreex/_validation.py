"""Input checks for the low-level API (the estimators use scikit-learn's)."""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from ._arrays import to_host


def check_points(X: object, *, name: str = "X", n_features: int | None = None,
                 allow_empty: bool = False) -> np.ndarray:
    """Validate a 2-D array of finite real numbers; return it as C-ordered float64.

    Raises
    ------
    TypeError
        Sparse input, or data that is not real numbers (strings, dicts, ...).
    ValueError
        Complex data, wrong number of dimensions, no rows / columns,
        NaN or infinity, or a feature count different from ``n_features``.
    """
    if sp.issparse(X):
        raise TypeError(f"{name}: sparse input is not supported; pass a dense array")
    arr = np.asarray(to_host(X))
    if np.iscomplexobj(arr):
        raise ValueError(f"{name}: complex data is not supported")
    if arr.dtype.kind not in "biuf":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name} must contain real numbers, got dtype {arr.dtype}: {exc}"
            ) from None
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array (n_samples, n_features), got {arr.ndim} dimension(s); "
            "reshape your data"
        )
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has 0 features; at least 1 is required")
    if arr.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} has 0 samples; at least 1 is required")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(
            f"{name} has {arr.shape[1]} features, "
            f"but the tree holds {n_features}-dimensional points"
        )
    out = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} contains NaN or infinity")
    return out


def check_positive_int(value: object, name: str) -> int:
    """``value`` as an int > 0, else ``TypeError`` / ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return int(value)


def check_radius(r: object, n_queries: int) -> np.ndarray:
    """A non-negative finite radius, scalar or one per query, as float64 array."""
    try:
        arr = np.asarray(r, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"radius must be a real number, got {r!r}") from None
    if arr.ndim == 0:
        arr = np.full(n_queries, float(arr))
    if arr.shape != (n_queries,):
        raise ValueError(f"radius must be a scalar or have shape ({n_queries},), got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError("radius must be finite and >= 0")
    return arr


def check_ids(ids: object, n: int) -> np.ndarray:
    """``n`` distinct non-negative integer ids, as int64 (``TypeError`` / ``ValueError``)."""
    arr = np.asarray(ids)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"ids must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64).ravel()
    if arr.shape[0] != n:
        raise ValueError(f"ids must have one entry per row ({n}), got {arr.shape[0]}")
    if n and arr.min() < 0:
        raise ValueError("ids must be non-negative")
    if np.unique(arr).size != n:
        raise ValueError("ids must not repeat")
    return arr
