"""Stateful property tests: random sequences of updates and queries against a brute-force model.

A hypothesis ``RuleBasedStateMachine`` fits, inserts, deletes and queries a
:class:`~sklearn_covertreex.CoverTree` (and, in a second machine, a
:class:`~sklearn_covertreex.CoverTreeNeighbors` through ``fit`` /
``partial_fit``) and a plain dict of rows, on both the numpy and the numba
backends. Points lie on a small integer lattice, so exact duplicates and
ties at equal distance are common; after every step the tree's invariants
are checked and every answer must equal brute force exactly, ties included
(the tree breaks ties by the smaller id).
"""

from __future__ import annotations

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from sklearn_covertreex import CoverTree, CoverTreeNeighbors, Runtime, check_invariants

D = 2
#: Lattice rows (duplicates and ties are frequent); optionally scaled by a power of ten.
coords = st.integers(-3, 3)
rows = st.lists(st.tuples(*[coords] * D), min_size=1, max_size=12)
scales = st.sampled_from([1.0, 1e-300, 1e300])
STEP_SETTINGS = settings(max_examples=30, stateful_step_count=15, deadline=None)


def _as_array(points: list[tuple[int, ...]], scale: float) -> np.ndarray:
    return np.asarray(points, dtype=np.float64).reshape(-1, D) * scale


def brute_knn(model: dict[int, np.ndarray], Q: np.ndarray, k: int) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    """Exact k-NN of the model, ties by the smaller id (distances on the rescaled lattice)."""
    ids = np.array(sorted(model), dtype=np.int64)
    X = np.array([model[i] for i in ids])
    D_ = _distances(X, Q)
    dist = np.empty((Q.shape[0], k))
    out = np.empty((Q.shape[0], k), dtype=np.int64)
    for q in range(Q.shape[0]):
        order = np.lexsort((ids, D_[q]))[:k]
        dist[q], out[q] = D_[q, order], ids[order]
    return dist, out


def _distances(X: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Euclidean distances from coordinate differences, computed at scale 1 and scaled back."""
    top = max(float(np.abs(X).max(initial=0)), float(np.abs(Q).max(initial=0)))
    e = 0 if top == 0 else -int(np.frexp(top)[1])
    diff = np.ldexp(Q[:, None, :], e) - np.ldexp(X[None, :, :], e)
    return np.ldexp(np.sqrt(np.sum(diff * diff, axis=-1)), -e)


class TreeMachine(RuleBasedStateMachine):
    """fit / insert / delete / knn / radius on a CoverTree and a dict of rows."""

    backend = "numba"

    def __init__(self) -> None:
        super().__init__()
        self.tree: CoverTree | None = None
        self.model: dict[int, np.ndarray] = {}
        self.next_id = 0
        self.scale = 1.0

    @initialize(points=rows, scale=scales, seed=st.integers(0, 3))
    def fit(self, points, scale, seed):
        self.scale = scale
        X = _as_array(points, scale)
        self.tree = CoverTree(Runtime(backend=self.backend, seed=seed)).fit(X)
        self.model = {i: X[i] for i in range(X.shape[0])}
        self.next_id = X.shape[0]

    @rule(points=rows, seed=st.integers(0, 3))
    def refit(self, points, seed):
        self.fit(points, self.scale, seed)

    @rule(points=rows)
    def insert(self, points):
        X = _as_array(points, self.scale)
        old, old_model = self.tree, dict(self.model)
        self.tree = self.tree.insert(X)
        for r in X:
            self.model[self.next_id] = r
            self.next_id += 1
        self._check_unchanged(old, old_model)

    @precondition(lambda self: len(self.model) > 1)
    @rule(data=st.data())
    def delete(self, data):
        live = sorted(self.model)
        chosen = data.draw(st.lists(st.sampled_from(live), min_size=1,
                                    max_size=len(live) - 1, unique=True))
        old, old_model = self.tree, dict(self.model)
        self.tree = self.tree.delete(chosen)
        for i in chosen:
            del self.model[i]
        self._check_unchanged(old, old_model)

    @rule(points=rows, data=st.data())
    def knn(self, points, data):
        Q = _as_array(points, self.scale)
        k = data.draw(st.integers(1, len(self.model)))
        d, i = self.tree.knn(Q, k)
        bd, bi = brute_knn(self.model, Q, k)
        np.testing.assert_array_equal(d, bd)
        np.testing.assert_array_equal(i, bi)

    @rule(points=rows, r=st.sampled_from([0.0, 1.0, 1.5, 2.0, 4.5]))
    def radius(self, points, r):
        Q = _as_array(points, self.scale)
        r = r * self.scale
        indptr, d, i = self.tree.radius(Q, r)
        ids = np.array(sorted(self.model), dtype=np.int64)
        D_ = _distances(np.array([self.model[j] for j in ids]), Q)
        for q in range(Q.shape[0]):
            want = D_[q] <= r
            got = sorted(zip(d[indptr[q]:indptr[q + 1]].tolist(),
                             i[indptr[q]:indptr[q + 1]].tolist(), strict=True))
            assert got == sorted(zip(D_[q, want].tolist(), ids[want].tolist(), strict=True))
            assert np.all(np.diff(d[indptr[q]:indptr[q + 1]]) >= 0)

    @rule(k=st.integers(1, 4))
    def knn_self(self, k):
        if len(self.model) <= k:
            return
        d, i = self.tree.knn_self(k)
        ids = np.array(sorted(self.model), dtype=np.int64)
        X = np.array([self.model[j] for j in ids])
        D_ = _distances(X, X)
        np.fill_diagonal(D_, np.inf)
        np.testing.assert_array_equal(d, np.sort(D_, axis=1)[:, :k])

    @invariant()
    def tree_is_valid(self):
        if self.tree is not None:
            check_invariants(self.tree.arrays)
            assert self.tree.n_points == len(self.model)
            assert sorted(self.tree.arrays.ids.tolist()) == sorted(self.model)

    def _check_unchanged(self, old: CoverTree, old_model: dict[int, np.ndarray]) -> None:
        """Persistence: the tree before the update still answers as before."""
        check_invariants(old.arrays)
        assert sorted(old.arrays.ids.tolist()) == sorted(old_model)
        Q = np.zeros((1, D))
        k = min(3, len(old_model))
        np.testing.assert_array_equal(old.knn(Q, k)[1], brute_knn(old_model, Q, k)[1])


class EstimatorMachine(RuleBasedStateMachine):
    """fit / partial_fit / kneighbors / radius_neighbors on CoverTreeNeighbors."""

    backend = "numba"

    def __init__(self) -> None:
        super().__init__()
        self.est = CoverTreeNeighbors(n_neighbors=1, backend=self.backend)
        self.model: dict[int, np.ndarray] = {}
        self.scale = 1.0

    @initialize(points=rows, scale=scales)
    def fit(self, points, scale):
        self.scale = scale
        X = _as_array(points, scale)
        self.est.fit(X)
        self.model = {i: X[i] for i in range(X.shape[0])}

    @rule(points=rows)
    def partial_fit(self, points):
        X = _as_array(points, self.scale)
        n = len(self.model)
        self.est.partial_fit(X)
        for j, r in enumerate(X):
            self.model[n + j] = r

    @rule(points=rows, data=st.data())
    def kneighbors(self, points, data):
        Q = _as_array(points, self.scale)
        k = data.draw(st.integers(1, len(self.model)))
        d, i = self.est.kneighbors(Q, n_neighbors=k)
        bd, bi = brute_knn(self.model, Q, k)
        np.testing.assert_array_equal(d, bd)
        np.testing.assert_array_equal(i, bi)

    @rule(points=rows, r=st.sampled_from([0.0, 1.0, 2.0, 3.5]))
    def radius_neighbors(self, points, r):
        Q = _as_array(points, self.scale)
        rd, ri = self.est.radius_neighbors(Q, radius=r * self.scale, sort_results=True)
        ids = np.arange(len(self.model))
        D_ = _distances(np.array([self.model[j] for j in ids]), Q)
        for q in range(Q.shape[0]):
            assert sorted(ri[q].tolist()) == ids[D_[q] <= r * self.scale].tolist()
            np.testing.assert_array_equal(rd[q], D_[q, ri[q]])

    @invariant()
    def tree_is_valid(self):
        if hasattr(self.est, "tree_"):
            check_invariants(self.est.tree_.arrays)
            assert self.est.n_samples_fit_ == len(self.model)


class NumpyTreeMachine(TreeMachine):
    backend = "numpy"


class NumpyEstimatorMachine(EstimatorMachine):
    backend = "numpy"


TestTreeNumba = TreeMachine.TestCase
TestTreeNumpy = NumpyTreeMachine.TestCase
TestEstimatorNumba = EstimatorMachine.TestCase
TestEstimatorNumpy = NumpyEstimatorMachine.TestCase
for _case in (TestTreeNumba, TestTreeNumpy, TestEstimatorNumba, TestEstimatorNumpy):
    _case.settings = STEP_SETTINGS
del _case
