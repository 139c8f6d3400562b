"""
DBSCAN and TSNE on a precomputed cover-tree k-NN graph
======================================================

``CoverTreeKNeighborsTransformer`` turns data into an exact sparse k-NN
graph that estimators with ``metric="precomputed"`` accept, exactly like
scikit-learn's ``KNeighborsTransformer``. Here the same graph drives DBSCAN
and TSNE, and DBSCAN's labels are checked against DBSCAN on the raw data.
"""

import numpy as np
from sklearn.cluster import DBSCAN
from sklearn.datasets import make_blobs
from sklearn.manifold import TSNE
from sklearn.pipeline import make_pipeline

from sklearn_covertreex import CoverTreeKNeighborsTransformer

X, _ = make_blobs(n_samples=3000, centers=5, n_features=3, cluster_std=0.6, random_state=0)

eps, min_samples = 0.5, 10
# DBSCAN needs every neighbour within eps: ask for enough neighbours.
graph = CoverTreeKNeighborsTransformer(n_neighbors=100, mode="distance").fit_transform(X)
labels = DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed").fit_predict(graph)
direct = DBSCAN(eps=eps, min_samples=min_samples).fit_predict(X)
print(f"DBSCAN clusters: {labels.max() + 1}, noise points: {(labels == -1).sum()}")
print("same labels as DBSCAN on the raw data:", np.array_equal(labels, direct))

perplexity = 10
tsne = make_pipeline(
    CoverTreeKNeighborsTransformer(n_neighbors=int(3 * perplexity + 1), mode="distance"),
    TSNE(metric="precomputed", perplexity=perplexity, init="random", max_iter=250,
         random_state=0),
)
embedding = tsne.fit_transform(X[:1000])
print("TSNE embedding:", embedding.shape)
