"""The residual-correlation metric of Vecchia / VIF Gaussian-process approximations.

See :mod:`.statistics` for the definition. :class:`ResidualModel` turns a
scikit-learn kernel and inducing points into per-point data
(:class:`ResidualPoints`); :mod:`.blocked` answers exact queries by blocked
matrix products; the cover-tree kernels take packed rows
(:meth:`ResidualModel.pack`).
"""

from .inducing import INDUCING_SELECTIONS, select_inducing_points
from .kernels import FastKernel, default_kernel, parse_fast_kernel
from .metric import ResidualCorrelation
from .statistics import ResidualModel, ResidualPoints

__all__ = [
    "INDUCING_SELECTIONS",
    "FastKernel",
    "ResidualCorrelation",
    "ResidualModel",
    "ResidualPoints",
    "default_kernel",
    "parse_fast_kernel",
    "select_inducing_points",
]
