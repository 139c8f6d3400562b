"""
The cover-tree KNN classifier against scikit-learn's
====================================================

``CoverTreeKNeighborsClassifier`` gives the same predictions as
``KNeighborsClassifier``; this script checks it on generated data and prints
fit and predict times of both side by side, in the same process.
"""

import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.neighbors import KNeighborsClassifier

from sklearn_covertreex import CoverTreeKNeighborsClassifier

X, y = make_classification(n_samples=40_000, n_features=4, n_informative=4, n_redundant=0,
                           n_classes=3, random_state=0)
Xtr, ytr, Xte = X[:30_000], y[:30_000], X[30_000:]

# compile the numba kernels once, outside the timings
CoverTreeKNeighborsClassifier().fit(Xtr[:500], ytr[:500]).predict(Xte[:10])

rows = []
for name, clf in [
    ("cover tree", CoverTreeKNeighborsClassifier(n_neighbors=10, weights="distance")),
    ("sklearn kd_tree", KNeighborsClassifier(10, weights="distance", algorithm="kd_tree")),
    ("sklearn brute", KNeighborsClassifier(10, weights="distance", algorithm="brute")),
]:
    t0 = time.perf_counter()
    clf.fit(Xtr, ytr)
    t1 = time.perf_counter()
    pred = clf.predict(Xte)
    t2 = time.perf_counter()
    rows.append((name, t1 - t0, t2 - t1, pred))

for name, fit_s, pred_s, _ in rows:
    print(f"{name:16s} fit {fit_s:7.3f} s   predict {pred_s:7.3f} s")
same = all(np.array_equal(rows[0][3], r[3]) for r in rows[1:])
print("identical predictions:", same)
