"""Former home of the residual-correlation engines, kept so old pickles load.

Estimators pickled by release 0.1.0.dev0 name
``sklearn_covertreex.algo.residual.ResidualIndex``; the engines now live in
:mod:`sklearn_covertreex.engines.residual`. Names are looked up lazily
(PEP 562), so importing :mod:`sklearn_covertreex.algo` never imports the
engines (which sit above it).
"""

from __future__ import annotations

from typing import Any

_MOVED = ("ResidualIndex", "RESIDUAL_ENGINES", "build_index", "check_choices",
          "resolve_algorithm")


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        from ..engines import residual

        return getattr(residual, name)
    if name == "engine":
        from ..engines.residual import RESIDUAL_ENGINES

        return lambda index: RESIDUAL_ENGINES.get(index.algorithm)
    if name == "residual_context":
        return lambda backend, runtime: runtime
    if name == "extend_index":
        return _extend_index
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _extend_index(runtime: Any, index: Any, new: Any, progress: Any = None) -> Any:
    """``index`` with the residual rows ``new`` appended (the engines' ``extend``)."""
    from dataclasses import replace

    from ..engines.residual import RESIDUAL_ENGINES

    tree = RESIDUAL_ENGINES.get(index.algorithm).extend(runtime, index, new, progress)
    return replace(index, points=index.points.concat(new), tree=tree)
