"""
Quickstart: build a cover tree and answer exact k-NN queries
=============================================================

Builds a parallel compressed cover tree on 100,000 generated points in 3-D,
answers 10,000 k-nearest-neighbour queries and a radius query, and checks
the answers against scikit-learn's exact brute force.
"""

import time

import numpy as np
from sklearn.neighbors import NearestNeighbors

from sklearn_covertreex import CoverTree, Runtime, check_invariants

rng = np.random.default_rng(0)
X = rng.normal(size=(100_000, 3))
Q = rng.normal(size=(10_000, 3))
k = 16

# Compile the numba kernels once on tiny data, so the timings below are real.
CoverTree().fit(X[:500]).knn(Q[:5], 3)

t0 = time.perf_counter()
tree = CoverTree(Runtime(diagnostics=True)).fit(X)
t1 = time.perf_counter()
dist, ids = tree.knn(Q, k)
t2 = time.perf_counter()
print(f"built a cover tree on {tree.n_points:,} points in {t1 - t0:.2f} s "
      f"({tree.diagnostics['n_levels']} levels, {tree.diagnostics['rounds']} insertion rounds)")
print(f"answered {Q.shape[0]:,} {k}-NN queries in {t2 - t1:.2f} s")

indptr, rdist, rids = tree.radius(Q[:100], 0.1)
print(f"radius 0.1 around 100 queries: {indptr[-1]} neighbours in total")

# Exactness against scikit-learn's brute force on the first 1,000 queries.
ref_dist, ref_ids = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(X).kneighbors(Q[:1000])
print("distances equal to brute force:", np.allclose(dist[:1000], ref_dist, rtol=1e-12, atol=1e-12))
print("ids equal to brute force:      ", np.array_equal(ids[:1000], ref_ids))

# Trees are persistent: insert / delete return new trees.
smaller = tree.delete(np.arange(1000))
check_invariants(smaller.arrays)
print(f"after deleting 1,000 ids: {smaller.n_points:,} points (the original still has "
      f"{tree.n_points:,})")
