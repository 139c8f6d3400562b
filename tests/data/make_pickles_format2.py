"""Trees and estimators pickled with tree format 2 (commit f13b82b, before the
power-of-two rescaling of format 3), with their answers.

Loaded by tests/test_pickle_compat.py: later releases must load them and
answer the same.
"""
import pickle

import numpy as np

import sklearn_covertreex as ctx

rng = np.random.default_rng(1)
X = rng.normal(size=(90, 3)) * 1e3
Q = rng.normal(size=(6, 3)) * 1e3
out = {}
for metric in ("euclidean", "manhattan", "chebyshev", "sqeuclidean"):
    tree = ctx.CoverTree(ctx.Runtime(backend="numba"), metric=metric).fit(X).delete([2, 7])
    r = 1500.0 ** (2 if metric == "sqeuclidean" else 1)
    out["tree_" + metric] = (tree, tree.knn(Q, 4), tree.radius(Q, r))
nn = ctx.CoverTreeNeighbors(n_neighbors=3, random_state=0).fit(X[:50]).partial_fit(X[50:])
out["neighbors"] = (nn, nn.kneighbors(Q), nn.radius_neighbors(Q, 1200.0, sort_results=True))
with open("tests/data/trees_format2.pkl", "wb") as f:
    pickle.dump((X, Q, out), f, protocol=4)
