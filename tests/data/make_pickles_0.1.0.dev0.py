"""Pickles of fitted estimators made by release 0.1.0.dev0 (commit 5d6dc29), with their answers.

Loaded by tests/test_pickle_compat.py: a later release must load them and give the same answers.
"""
import pickle

import numpy as np
from sklearn.gaussian_process.kernels import ConstantKernel, Matern

import sklearn_covertreex as ctx

rng = np.random.default_rng(0)
X = rng.normal(size=(80, 3))
Q = rng.normal(size=(7, 3))
y = (X[:, 0] > 0).astype(int)
yr = X[:, 1] * 2.0
out = {}
nn = ctx.CoverTreeNeighbors(n_neighbors=4, random_state=0).fit(X[:60]).partial_fit(X[60:])
out["neighbors"] = (nn, nn.kneighbors(Q), nn.kneighbors())
clf = ctx.CoverTreeKNeighborsClassifier(n_neighbors=3, random_state=0).fit(X, y)
out["classifier"] = (clf, clf.predict_proba(Q))
reg = ctx.CoverTreeKNeighborsRegressor(n_neighbors=3, weights="distance", random_state=0).fit(X, yr)
out["regressor"] = (reg, reg.predict(Q))
tr = ctx.CoverTreeKNeighborsTransformer(n_neighbors=3, random_state=0).fit(X)
out["transformer"] = (tr, tr.transform(Q).toarray())
for algo in ("brute", "tree"):
    res = ctx.ResidualCoverTreeNeighbors(n_neighbors=4, inducing_points=16, algorithm=algo,
                                         kernel=ConstantKernel(1.5) * Matern(0.7, nu=1.5),
                                         random_state=0).fit(X)
    out["residual_" + algo] = (res, res.kneighbors(Q), res.kneighbors(),
                               res.vecchia_neighbors(return_distance=True))
tree = ctx.CoverTree(ctx.Runtime(backend="numba")).fit(X).delete([3, 5])
out["cover_tree"] = (tree, tree.knn(Q, 5))
with open("tests/data/estimators_0.1.0.dev0.pkl", "wb") as f:
    pickle.dump(out, f, protocol=4)
