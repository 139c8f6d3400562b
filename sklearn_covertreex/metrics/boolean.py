"""The boolean metrics of scikit-learn's ``BallTree`` that are true metrics.

Rows are read as booleans (non-zero is true, as scikit-learn converts them)
and stored as 0/1. With ``ntt`` the features true in both rows, ``nneq`` the
features where they differ and ``n`` the number of features:

* ``jaccard``: ``nneq / (ntt + nneq)`` (0 when both rows are all false);
* ``rogerstanimoto`` and ``sokalmichener`` (the same formula in
  scikit-learn): ``2 nneq / (n + nneq)``;
* ``sokalsneath``: ``nneq / (ntt / 2 + nneq)`` (0 when both rows are all
  false; scikit-learn returns nan there).

All are true metrics: in Gower and Legendre's families
``1 - a / (a + theta (b + c))`` (jaccard theta = 1, sokalsneath theta = 2)
and ``1 - (a + d) / (a + d + theta (b + c))`` (rogerstanimoto theta = 2) the
dissimilarity is a metric for ``theta >= 1`` (Gower and Legendre 1986,
"Metric and Euclidean properties of dissimilarity coefficients"). ``dice``
(theta = 1/2) and ``russellrao`` (``d(x, x) > 0``) are not, and are refused.
The grid conflict graph and the Hilbert batch order do not apply.
Parameters: ``(n_features, kind)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .base import Metric, kernel_class

JACCARD = "jaccard"
ROGERSTANIMOTO = "rogerstanimoto"
SOKALMICHENER = "sokalmichener"
SOKALSNEATH = "sokalsneath"

#: name -> kind code (params[1])
KINDS = {JACCARD: 0, ROGERSTANIMOTO: 1, SOKALMICHENER: 1, SOKALSNEATH: 2}

#: Kernel-side identity of the boolean metrics (see :mod:`.base`).
BooleanRows = kernel_class("BooleanRows", __name__)


@njit(cache=True)
def distance(params, a, b):
    """The boolean distance of kind ``params[1]`` between two 0/1 rows (compiled)."""
    ntt = 0
    nneq = 0
    for t in range(a.shape[0]):
        x = a[t] != 0
        y = b[t] != 0
        if x != y:
            nneq += 1
        elif x:
            ntt += 1
    if nneq == 0:
        return 0.0
    kind = params[1]
    if kind == 0:
        return nneq / (ntt + nneq)
    if kind == 1:
        return 2.0 * nneq / (params[0] + nneq)
    return nneq / (0.5 * ntt + nneq)


def reference(params: tuple[float, ...], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise distances between 0/1 rows ``a`` and ``b``, broadcasting."""
    x, y = a != 0, b != 0
    nneq = np.count_nonzero(x != y, axis=-1).astype(np.float64)
    ntt = np.count_nonzero(x & y, axis=-1).astype(np.float64)
    kind = params[1]
    if kind == 0:
        denom = ntt + nneq
    elif kind == 1:
        return 2.0 * nneq / (params[0] + nneq)
    else:
        denom = 0.5 * ntt + nneq
    return np.where(nneq > 0, nneq / np.where(denom > 0, denom, 1.0), 0.0)


def _make_params(kind: int):
    def make_params(n_columns: int) -> tuple[float, ...]:
        """``(n_columns, kind)``."""
        return (float(n_columns), float(kind))
    return make_params


def prepare(X: np.ndarray, params: tuple[float, ...]) -> np.ndarray:
    """Rows as 0/1 (non-zero is true)."""
    return np.ascontiguousarray((X != 0).astype(np.float64))


METRICS = {
    name: Metric(name=name, kernel_class=BooleanRows, has_coordinates=True, is_true_metric=True,
                 reference=reference, compiled=distance, make_params=_make_params(kind),
                 prepare=prepare)
    for name, kind in KINDS.items()
}
