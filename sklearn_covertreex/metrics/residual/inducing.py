"""Choice of inducing points for the residual-correlation metric."""

from __future__ import annotations

import numpy as np

from ..._registry import Registry


def random_selection(X: np.ndarray, m: int, rng: np.random.RandomState) -> np.ndarray:
    """Row indices of ``m`` rows of X drawn uniformly without replacement."""
    return np.sort(rng.choice(X.shape[0], size=m, replace=False))


def kmeanspp_selection(X: np.ndarray, m: int, rng: np.random.RandomState) -> np.ndarray:
    """Row indices chosen by k-means++ seeding (spread-out rows of X)."""
    from sklearn.cluster import kmeans_plusplus  # here, not at import: slow to import

    _, idx = kmeans_plusplus(X, n_clusters=m, random_state=rng)
    return np.asarray(idx, dtype=np.intp)


#: name -> f(X, m, rng) -> row indices
INDUCING_SELECTIONS: Registry = Registry("inducing_selection")
INDUCING_SELECTIONS.register("random", random_selection)
INDUCING_SELECTIONS.register("kmeans++", kmeanspp_selection)


def select_inducing_points(X: np.ndarray, m: int, method: str,
                           rng: np.random.RandomState) -> np.ndarray:
    """Return ``min(m, n)`` rows of X chosen by ``method`` (a copy, float64)."""
    select = INDUCING_SELECTIONS.get(method)
    m = min(int(m), X.shape[0])
    return np.array(X[select(X, m, rng)], dtype=np.float64)
