"""scikit-learn's estimator checks, with no expected failures."""

from __future__ import annotations

from sklearn.gaussian_process.kernels import Matern, RationalQuadratic
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_covertreex import (
    CoverTreeKNeighborsClassifier,
    CoverTreeKNeighborsRegressor,
    CoverTreeKNeighborsTransformer,
    CoverTreeNeighbors,
    ResidualCoverTreeNeighbors,
)

ESTIMATORS = [
    CoverTreeNeighbors(),
    CoverTreeKNeighborsTransformer(),
    CoverTreeKNeighborsTransformer(mode="connectivity"),
    CoverTreeKNeighborsClassifier(),
    CoverTreeKNeighborsClassifier(weights="distance"),
    CoverTreeKNeighborsRegressor(),
    CoverTreeKNeighborsRegressor(weights="distance"),
    ResidualCoverTreeNeighbors(),
    ResidualCoverTreeNeighbors(algorithm="tree", kernel=Matern(1.0, nu=1.5)),
    ResidualCoverTreeNeighbors(kernel=RationalQuadratic(), inducing_points=3),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: {})
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
