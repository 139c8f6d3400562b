"""Constructor parameters shared by the estimators, each declared once.

A :class:`Param` holds a parameter's check (run by
``_CoverTreeBase._check_params`` before ``fit`` touches anything) and its
numpydoc text. :func:`document_params` writes that text into each class
docstring in place of a ``%(name)s`` line, with the default read from the
class's own ``__init__`` (the signatures stay explicit per class, as
scikit-learn's ``get_params`` requires); the fitted attributes every
estimator has are documented the same way, from :data:`SHARED_ATTRIBUTES`.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ._common import (
    check_n_jobs,
    check_n_neighbors,
    check_radius_param,
    check_random_state_param,
    check_strategy,
    check_verbose,
)
from ._metric import check_metric, check_metric_params, check_p
from ._weights import check_weights

#: ``check(value, name)`` raises ``TypeError``/``ValueError`` for a bad value.
Check = Callable[[Any, str], object]


@dataclass(frozen=True)
class Param:
    """One constructor parameter: numpydoc type, description and check."""

    type: str
    doc: str
    check: Check


SHARED_PARAMS: dict[str, Param] = {
    "n_neighbors": Param("int", """
        Number of neighbours of each query when a method is not given its own
        ``n_neighbors`` (:meth:`kneighbors`, and the estimator's predictions
        or graphs).""", check_n_neighbors),
    "radius": Param("float", """
        Radius of :meth:`radius_neighbors` when it is not given one
        (inclusive).""", check_radius_param),
    "weights": Param('{"uniform", "distance"} or callable', """
        Weights of the neighbours' votes: ``"uniform"``, equal; ``"distance"``,
        inverse distance (a query with an exact match gives all the weight to
        its exact matches); a callable maps the distance array to a weight
        array of the same shape. As in
        :class:`sklearn.neighbors.KNeighborsClassifier`.""", check_weights),
    "metric": Param("str or callable", """
        Distance, with the names and meaning of
        :class:`sklearn.neighbors.NearestNeighbors`: "minkowski" (with
        ``p``), "euclidean"/"l2", "manhattan"/"cityblock"/"l1",
        "chebyshev"/"infinity", "seuclidean" (``metric_params={"V": ...}``),
        "mahalanobis" (``{"VI": ...}`` or ``{"V": ...}``), "haversine"
        (rows ``[latitude, longitude]`` in radians), "hamming", "canberra",
        "jaccard", "rogerstanimoto", "sokalmichener", "sokalsneath",
        "cosine", "correlation", "sqeuclidean", or a function ``f(a, b) ->
        float`` (numba-compiled for compiled speed; plain Python is slower)
        that must be a true metric. Distances that are not metrics
        ("braycurtis", "dice", "russellrao", ...) raise ``ValueError``. Every
        metric is exact; see the metrics page of the documentation.""",
        check_metric),
    "p": Param("float", """
        Order of the Minkowski metric (``metric="minkowski"``): 1 is
        "manhattan", 2 "euclidean", ``inf`` "chebyshev"; it must be >= 1
        (below, the triangle inequality fails).""", check_p),
    "metric_params": Param("dict", """
        Parameters of the metric: ``w`` (Minkowski weights), ``V``
        (seuclidean variances, mahalanobis covariance), ``VI`` (mahalanobis
        inverse covariance), ``p``.""", check_metric_params),
    "backend": Param('{"auto", "numba", "numpy", "jax", "cupy"}', """
        Kernel backend; "auto" uses numba when available. The numpy, jax
        (extra ``jax``) and cupy (extra ``cupy``, an NVIDIA GPU) backends
        serve the metrics the tree computes on Euclidean rows (euclidean,
        seuclidean, mahalanobis, sqeuclidean, cosine, correlation,
        haversine) and refuse the others.""", check_strategy),
    "construction": Param('{"auto", "depth_first", "batch"}', """
        How ``fit`` builds the tree (answers do not depend on it).
        "depth_first": one serial pass placing every point (the batch
        construction of Beygelzimer, Kakade and Langford); "batch":
        parallel prefix-doubling insertion batches. "auto" builds a trial
        tree on 4096 rows and takes "depth_first" when it needed few
        distances per point (low intrinsic dimension: about 3x faster on
        the 2-D and 3-D benchmarks), else "batch" (faster from about 4
        intrinsic dimensions, and under the residual metric); backends
        without the depth-first kernel (numpy, jax, cupy) always use "batch".
        ``partial_fit`` rebuilds with it when it adds at least as many
        points as the tree holds, else inserts a batch.""", check_strategy),
    "traversal": Param('{"sparse"}', """
        How inserted points find their place in the tree.""", check_strategy),
    "conflict_graph": Param('{"segmented", "grid", "tree"}', """
        How conflicts between points inserted together are found (changes
        build time only). "segmented" was the fastest on every Euclidean
        workload measured up to d = 16, "grid" (coordinates) in 2-D, and
        "tree" 2-7x slower than "segmented" there (doc/benchmarks.md).""",
        check_strategy),
    "batch_order": Param('{"random", "natural", "hilbert"}', """
        Order of points in the prefix-doubling insertion batches ("hilbert":
        the Hilbert curve read in bit-reversed order, every prefix spread over
        the data; coordinate metrics only).""", check_strategy),
    "n_jobs": Param("int", """
        Threads for queries and builds. ``None`` means the ``n_jobs`` of an
        enclosing ``joblib.parallel_backend`` context, else every core; an
        OpenMP limit from ``threadpoolctl.threadpool_limits`` caps it.
        ``-1`` means every core.""", check_n_jobs),
    "random_state": Param("int, RandomState instance or None", """
        Seeds the batch order and the independent-set priorities. Answers do
        not depend on it (they are exact); only the tree's shape does.""",
        check_random_state_param),
    "verbose": Param("bool", """
        Print a progress bar (tqdm, if installed) while building large trees.""",
        check_verbose),
}

#: Fitted attributes common to the estimators: name -> (numpydoc type, description).
SHARED_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "n_samples_fit_": ("int", "Number of samples in the fitted data."),
    "n_features_in_": ("int", "Number of features seen during fit."),
    "feature_names_in_": ("ndarray of shape (`n_features_in_`,)",
                          "Names of features seen during fit, when X has string column names."),
    "effective_metric_": ("str or callable",
                          "The metric used, as :class:`sklearn.neighbors.NearestNeighbors` "
                          'sets it (``metric="minkowski"`` with ``p`` 1, 2 or inf becomes '
                          '"manhattan", "euclidean" or "chebyshev").'),
    "effective_metric_params_": ("dict", "The metric's parameters, as scikit-learn sets them."),
    "tree_": ("CoverTree",
              "The fitted tree (immutable; see :class:`sklearn_covertreex.CoverTree`)."),
}

_PLACEHOLDER = re.compile(r"^( *)%\((\w+)\)s$", flags=re.MULTILINE)

E = TypeVar("E", bound=type)


def _shown(default: Any) -> str:
    return f'"{default}"' if isinstance(default, str) else repr(default)


def document_params(cls: E) -> E:
    """Class decorator: replace each ``%(name)s`` docstring line by that shared entry.

    A parameter's entry reads ``name : type, default=<the class's default>``
    followed by the shared description; an attribute's, ``name : type`` and
    its description. Raises ``KeyError`` at import time for a name that is
    in neither table, or a parameter that is not in the class's ``__init__``.
    """
    if cls.__doc__ is None:  # python -OO
        return cls
    signature = inspect.signature(cls.__init__)

    def entry(match: re.Match[str]) -> str:
        indent, name = match.group(1), match.group(2)
        if name in SHARED_ATTRIBUTES:
            kind, doc = SHARED_ATTRIBUTES[name]
            header = f"{name} : {kind}"
        else:
            param = SHARED_PARAMS[name]
            kind, doc = param.type, param.doc
            header = f"{name} : {kind}, default={_shown(signature.parameters[name].default)}"
        body = textwrap.indent(textwrap.dedent(doc).strip(), indent + "    ")
        return f"{indent}{header}\n{body}"

    cls.__doc__ = _PLACEHOLDER.sub(entry, cls.__doc__)
    return cls
