"""
Searching strategy parameters with GridSearchCV
===============================================

Every strategy knob of the cover-tree estimators is a constructor parameter,
so ``GridSearchCV`` can search it inside a ``Pipeline``. Because the search
is exact, strategies never change the answers, only the time: the scores
below depend on ``n_neighbors`` alone.
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_covertreex import CoverTreeKNeighborsClassifier

X, y = load_digits(return_X_y=True)
pipe = make_pipeline(StandardScaler(), CoverTreeKNeighborsClassifier())
grid = GridSearchCV(
    pipe,
    {
        "covertreekneighborsclassifier__n_neighbors": [1, 5],
        "covertreekneighborsclassifier__conflict_graph": ["segmented", "grid"],
        "covertreekneighborsclassifier__batch_order": ["random", "hilbert"],
    },
    cv=3,
    n_jobs=2,
)
grid.fit(X, y)

res = grid.cv_results_
for params, score, fit_time in zip(res["params"], res["mean_test_score"], res["mean_fit_time"],
                                   strict=True):
    short = {k.split("__")[1]: v for k, v in params.items()}
    print(f"{short}  accuracy={score:.4f}  fit={fit_time * 1000:.1f} ms")
print("best:", grid.best_params_, f"{grid.best_score_:.4f}")
k = np.array(res["param_covertreekneighborsclassifier__n_neighbors"])
assert all(np.ptp(res["mean_test_score"][k == v]) == 0 for v in (1, 5))
