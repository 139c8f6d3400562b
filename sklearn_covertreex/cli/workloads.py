"""The Euclidean benchmark workloads (W1-W4, H3) and their data (seeded generators)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np


@dataclasses.dataclass(frozen=True)
class Workload:
    """One benchmark workload.

    Parameters
    ----------
    name, description : str
    kind : {"gaussian", "subspace", "uniform"}
    n, n_queries, d, k : int
    all_points : bool
        All-points k-NN on the indexed points (each excluding itself).
    data_seed : int
        Mixed into the seed; workloads sharing it share their points.
    intrinsic_dim : int
    noise : float
        Subspace dimension and noise level (``"subspace"`` only).
    """

    name: str
    description: str
    kind: str
    n: int
    n_queries: int
    d: int
    k: int
    all_points: bool = False
    data_seed: int = 0
    intrinsic_dim: int = 0
    noise: float = 0.0

    def scaled(self, scale: float) -> Workload:
        """Multiply ``n`` and ``n_queries`` by ``scale`` (at least k + 2 points, 1 query).

        Parameters
        ----------
        scale : float
            A positive multiplier.

        Returns
        -------
        Workload

        Raises
        ------
        ValueError
            If a scaled size is not a finite number.
        """
        n, n_queries = float(self.n) * scale, float(self.n_queries) * scale
        if not (math.isfinite(n) and math.isfinite(n_queries)):
            raise ValueError(f"--scale {scale:g} makes {self.name} {self.n} * {scale:g} points, "
                             "not a finite number; choose a smaller scale")
        return dataclasses.replace(self, n=max(int(round(n)), self.k + 2),
                                   n_queries=max(int(round(n_queries)), 1))


PRESETS: Mapping[str, Workload] = MappingProxyType({w.name: w for w in (
    Workload("W1", "standard normal, d=3", "gaussian", 100_000, 10_000, 3, 16, data_seed=1),
    Workload("W2", "standard normal, d=8", "gaussian", 100_000, 10_000, 8, 16, data_seed=2),
    Workload("W3", "4-dim linear subspace of d=16 + 1e-3 noise", "subspace", 200_000, 10_000,
             16, 16, data_seed=3, intrinsic_dim=4, noise=1e-3),
    Workload("W4", "all-points k-NN on W1's points (self excluded)", "gaussian", 100_000, 0, 3,
             16, all_points=True, data_seed=1),
    Workload("H3", "uniform in [0, 1]^2, n=1M", "uniform", 1_000_000, 100_000, 2, 8,
             data_seed=4),
)})


def _gaussian(rng: np.random.Generator,
              w: Workload) -> tuple[np.ndarray, np.ndarray | None]:
    X = rng.standard_normal((w.n, w.d))
    Q = None if w.all_points else rng.standard_normal((w.n_queries, w.d))
    return X, Q


def _uniform(rng: np.random.Generator,
             w: Workload) -> tuple[np.ndarray, np.ndarray | None]:
    X = rng.random((w.n, w.d))
    Q = None if w.all_points else rng.random((w.n_queries, w.d))
    return X, Q


def _subspace(rng: np.random.Generator,
              w: Workload) -> tuple[np.ndarray, np.ndarray | None]:
    dim = min(max(w.intrinsic_dim, 1), w.d)
    basis, _ = np.linalg.qr(rng.standard_normal((w.d, dim)))
    X = _subspace_points(rng, basis, w.n, w.noise)
    Q = None if w.all_points else _subspace_points(rng, basis, w.n_queries, w.noise)
    return X, Q


def _subspace_points(rng: np.random.Generator, basis: np.ndarray, n: int,
                     noise: float) -> np.ndarray:
    """``Z @ basis.T + noise * N(0, I)`` for standard normal ``Z``."""
    out = rng.standard_normal((n, basis.shape[0]))
    out *= noise
    out += rng.standard_normal((n, basis.shape[1])) @ basis.T
    return out


#: ``Workload.kind -> generator(rng, workload) -> (X, Q)``.
GENERATORS: Mapping[str, Callable[[np.random.Generator, Workload],
                                  tuple[np.ndarray, np.ndarray | None]]] = MappingProxyType({
    "gaussian": _gaussian,
    "subspace": _subspace,
    "uniform": _uniform,
})


def make_data(workload: Workload, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Points and queries of a workload (queries are None for all-points workloads).

    Parameters
    ----------
    workload : Workload
    seed : int
        Mixed with ``workload.data_seed`` into the generator's seed.

    Returns
    -------
    X : ndarray of shape (n, d)
    Q : ndarray of shape (n_queries, d) or None
    """
    return GENERATORS[workload.kind](np.random.default_rng([seed, workload.data_seed]),
                                     workload)
