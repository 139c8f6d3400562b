"""
DBSCAN on GPS points with the haversine metric
==============================================

``CoverTreeKNeighborsTransformer(metric="haversine")`` fits an exact
great-circle cover tree on latitude/longitude points (radians, as
scikit-learn takes them). DBSCAN needs every neighbour within ``eps``: the
transformer's tree answers that radius query exactly, and
``DBSCAN(metric="precomputed")`` clusters the sparse graph (DBSCAN adds the
diagonal itself). A k-NN graph works too when k covers the largest
eps-neighbourhood (``transformer.kneighbors_graph(X, n_neighbors=k)``), but
costs more. The labels are checked against scikit-learn's own
``DBSCAN(metric="haversine", algorithm="ball_tree")`` and both times printed
(compilation is warmed up first, so it is not timed).
"""

import time

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.cluster import DBSCAN

from sklearn_covertreex import CoverTreeKNeighborsTransformer

EARTH_KM = 6371.0
rng = np.random.default_rng(0)
n_towns, n_points = 40, 8_000
town_lat = np.radians(rng.uniform(35, 60, n_towns))
town_lon = np.radians(rng.uniform(-10, 30, n_towns))
town = rng.integers(0, n_towns, n_points)
spread = rng.uniform(1.0, 6.0, n_towns)[town] / EARTH_KM  # 1-6 km towns
X = np.stack([town_lat[town] + rng.normal(size=n_points) * spread,
              town_lon[town] + rng.normal(size=n_points) * spread / np.cos(town_lat[town])],
             axis=1)
X = np.concatenate([X, np.radians(np.stack([rng.uniform(35, 60, 1000),  # background noise
                                            rng.uniform(-10, 30, 1000)], axis=1))])

eps, min_samples = 1.0 / EARTH_KM, 10  # 1 km


def cluster(X):
    """DBSCAN labels through the transformer's tree: the exact eps-neighbourhood graph."""
    transformer = CoverTreeKNeighborsTransformer(metric="haversine").fit(X)
    indptr, dist, ind = transformer.tree_.radius_self(eps)  # each point's, itself excluded
    graph = csr_matrix((dist, ind, indptr), shape=(X.shape[0], X.shape[0]))
    labels = DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed").fit_predict(graph)
    return labels, int(np.diff(indptr).max())


cluster(X[:500])  # warm-up: compile the kernels once (not timed)
t0 = time.perf_counter()
labels, k = cluster(X)
ours = time.perf_counter() - t0

t0 = time.perf_counter()
direct = DBSCAN(eps=eps, min_samples=min_samples, metric="haversine",
                algorithm="ball_tree").fit_predict(X)
theirs = time.perf_counter() - t0

print(f"{X.shape[0]} points, eps = 1 km, up to {k} neighbours within eps")
print(f"clusters: {labels.max() + 1}, noise points: {(labels == -1).sum()}")
print(f"cover tree radius graph + DBSCAN(precomputed): {ours:.2f} s")
print(f"DBSCAN(metric='haversine', algorithm='ball_tree'): {theirs:.2f} s")
print("identical labels:", np.array_equal(labels, direct))
assert np.array_equal(labels, direct)
