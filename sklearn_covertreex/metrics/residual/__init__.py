"""The residual-correlation metric of Vecchia / VIF Gaussian-process approximations.

See :mod:`.statistics` for the definition. :class:`ResidualModel` turns a
scikit-learn kernel and inducing points into per-point data
(:class:`ResidualPoints`) and into the stored rows of the metric
(:mod:`.metric`, :meth:`ResidualModel.pack`); the search engines live in
:mod:`sklearn_covertreex.engines`.
"""

from .correlation import correlation, correlation_array
from .inducing import INDUCING_SELECTIONS, select_inducing_points
from .kernels import FastKernel, default_kernel, parse_fast_kernel
from .statistics import ResidualModel, ResidualPoints

__all__ = [
    "INDUCING_SELECTIONS",
    "FastKernel",
    "ResidualModel",
    "ResidualPoints",
    "correlation",
    "correlation_array",
    "default_kernel",
    "parse_fast_kernel",
    "select_inducing_points",
]
