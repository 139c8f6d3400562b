"""Helpers shared by the estimators: parameter checks, threads, input, sparse output type."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

from .._arrays import to_host
from .._threads import resolve_n_jobs
from ..runtime import Runtime


def query_threads(n_jobs: int | None) -> int:
    """Threads for a build or query call: :func:`sklearn_covertreex._threads.resolve_n_jobs`.

    The one place the estimators turn their ``n_jobs`` into a thread count
    (joblib context, threadpoolctl OpenMP limits, numba's thread count).

    Raises
    ------
    ValueError
        If ``n_jobs`` is not None or a non-zero int.
    """
    return resolve_n_jobs(n_jobs)


def check_n_jobs(n_jobs: Any, name: str = "n_jobs") -> None:
    """``n_jobs`` must be None or a non-zero int."""
    if n_jobs is not None and (
        isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0
    ):
        raise ValueError(f"{name} must be None or a non-zero integer, got {n_jobs!r}")


def check_n_neighbors(value: Any, name: str = "n_neighbors") -> int:
    """A positive int, with scikit-learn's messages."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} does not take {type(value)} value, enter integer value")
    if value <= 0:
        raise ValueError(f"Expected {name} > 0. Got {value}")
    return int(value)


def check_radius_param(value: Any, name: str = "radius") -> float:
    """A finite non-negative real radius."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return float(value)


def check_strategy(value: Any, name: str) -> None:
    """A strategy or backend name known to :class:`~sklearn_covertreex.Runtime`.

    ``name`` is the Runtime field (``"backend"``, ``"construction"``, ``"traversal"``,
    ``"conflict_graph"``, ``"batch_order"``); the ``ValueError`` for an
    unknown value names the valid choices (the registries are the one list).
    """
    Runtime(**{name: value}).validate()


def check_random_state_param(value: Any, name: str = "random_state") -> None:
    """None, an int or a ``numpy.random.RandomState`` (nothing is drawn from it)."""
    if value is None or isinstance(value, np.random.RandomState):
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"{name} must be None, an int or a numpy.random.RandomState, got {value!r}"
        )
    check_random_state(value)  # range check (0 <= seed < 2**32), scikit-learn's message


def check_verbose(value: Any, name: str = "verbose") -> None:
    """A bool or a non-negative int."""
    if isinstance(value, (bool, np.bool_)):
        return
    if not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a bool or an int >= 0, got {value!r}")


def make_runtime(est: Any, *, diagnostics: bool = False) -> Runtime:
    """Build and validate the Runtime described by an estimator's parameters.

    Draws the tree's seed from ``random_state``. Raises ``ValueError`` naming
    the valid choices for an unknown strategy.
    """
    seed = int(check_random_state(est.random_state).randint(np.iinfo(np.int32).max))
    return Runtime(
        backend=est.backend, construction=est.construction, traversal=est.traversal,
        conflict_graph=est.conflict_graph,
        batch_order=est.batch_order, seed=seed, n_jobs=query_threads(est.n_jobs),
        diagnostics=diagnostics,
    ).validate()


def csr_output(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray,
               shape: tuple[int, int]) -> sp.csr_matrix | sp.csr_array:
    """CSR graph honouring ``sklearn.set_config(sparse_interface=...)`` (1.9+)."""
    kind = get_config().get("sparse_interface", "spmatrix")
    cls = sp.csr_array if kind == "sparray" else sp.csr_matrix
    return cls((data, indices, indptr), shape=shape)


def validate(est: Any, X: Any, y: Any = "no_validation", *,
             dtype: Any = (np.float64, np.float32), **kwargs: Any) -> Any:
    """``validate_data`` for dense float input, with a plain message for sparse X.

    Sparse matrices are rejected (never densified silently): the tree holds
    dense coordinates. Sparse targets are rejected too.
    """
    X, y = to_host(X), to_host(y)
    if sp.issparse(X):
        raise TypeError(
            "sparse input is not supported: pass a dense array (X.toarray()) "
            "if it fits in memory"
        )
    if sp.issparse(y):
        raise TypeError("sparse y is not supported: pass a dense array (y.toarray())")
    return validate_data(est, X, y, dtype=list(dtype) if isinstance(dtype, tuple) else dtype,
                         order="C", **kwargs)


#: Builds smaller than this never show a progress bar.
PROGRESS_MIN_ROWS = 50_000


@contextmanager
def build_progress(
    verbose: Any, n_rows: int, what: str
) -> Iterator[Callable[[int], object] | None]:
    """A tqdm progress callback for long builds when ``verbose`` (else None).

    Without tqdm installed, ``verbose`` prints one line per build instead.
    """
    if not verbose or n_rows < PROGRESS_MIN_ROWS:
        yield None
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:
        print(f"[sklearn_covertreex] {what}: inserting {n_rows} points")
        yield None
        return
    bar = tqdm(total=n_rows, desc=f"cover tree {what}", unit="pt")
    try:
        yield bar.update
    finally:
        bar.close()
