"""The base of every estimator: parameter checks, input validation, fitted-state swap."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from ._common import validate
from ._params import SHARED_PARAMS, Check

#: Attributes that ``validate_data(reset=True)`` sets.
_SEEN_BY_VALIDATION = ("n_features_in_", "feature_names_in_")


class _CoverTreeBase(BaseEstimator):
    """Shared machinery of the estimators (private).

    * ``_parameter_checks``: name -> ``check(value, name)``, in the manner of
      scikit-learn's ``_parameter_constraints``; the shared parameters come
      from :data:`~._params.SHARED_PARAMS`, subclasses add or replace
      entries. :meth:`_check_params` runs the check of every ``__init__``
      parameter.
    * ``_validate_fit`` / ``_validate_more``: ``validate_data`` with
      ``reset=True`` (on a scratch copy, so a failure changes nothing) or
      ``reset=False``.
    * ``_set_fitted`` / ``_update_fitted``: the fitted state is replaced by
      one assignment at the end of ``fit`` / ``partial_fit``, so a call that
      fails (bad parameter or data, ``MemoryError``, ``KeyboardInterrupt``)
      leaves the previous state as it was.
    """

    _parameter_checks: ClassVar[Mapping[str, Check]] = {
        name: param.check for name, param in SHARED_PARAMS.items()
    }
    #: Private attributes that belong to the fitted state (public ones end in "_").
    _private_fitted: ClassVar[tuple[str, ...]] = ()
    #: Accepted dtypes of X (others are converted to the first).
    _dtype: ClassVar[Any] = (np.float64, np.float32)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle; parameters added since the pickle was made take their defaults."""
        signature = inspect.signature(type(self).__init__)
        for name, param in signature.parameters.items():
            if name != "self" and param.default is not param.empty:
                state.setdefault(name, param.default)
        super().__setstate__(state)

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False
        return tags

    # ------------------------------------------------------------ parameters
    def _check_params(self) -> None:
        """Check every constructor parameter (``TypeError``/``ValueError`` naming it).

        A parameter without an entry in ``_parameter_checks`` (one a user's
        subclass adds) is not checked; the package's own estimators declare
        every one (tests/test_estimator_params.py).
        """
        for name in self._get_param_names():
            check = self._parameter_checks.get(name)
            if check is not None:
                check(getattr(self, name), name)

    # ----------------------------------------------------------------- input
    def _validate_fit(self, X: Any, y: Any = "no_validation",
                      **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """``validate_data(reset=True)`` without touching ``self``.

        Returns the validated data and the attributes validation sets
        (``n_features_in_``, and ``feature_names_in_`` when X has string
        column names), for :meth:`_set_fitted`.
        """
        scratch = self._shallow_copy()  # same class, parameters and tags
        out = validate(scratch, X, y, reset=True, dtype=self._dtype, **kwargs)
        seen = {k: v for k, v in vars(scratch).items() if k in _SEEN_BY_VALIDATION}
        return out, seen

    def _validate_more(self, X: Any, y: Any = "no_validation", **kwargs: Any) -> Any:
        """``validate_data(reset=False)``: width and feature names must match the fit."""
        return validate(self, X, y, reset=False, dtype=self._dtype, **kwargs)

    # ---------------------------------------------------------- fitted state
    def _shallow_copy(self) -> Any:
        """A new instance sharing this one's attribute values (arrays are not copied)."""
        twin = object.__new__(type(self))
        vars(twin).update(vars(self))
        return twin

    def _is_fitted_attr(self, name: str) -> bool:
        return (name.endswith("_") and not name.startswith("__")) \
            or name in self._private_fitted

    def _set_fitted(self, state: Mapping[str, Any]) -> None:
        """Replace the whole fitted state by ``state``, in one assignment."""
        kept = {k: v for k, v in vars(self).items() if not self._is_fitted_attr(k)}
        self.__dict__ = {**kept, **state}

    def _update_fitted(self, changes: Mapping[str, Any]) -> None:
        """Change some fitted attributes, all in one assignment."""
        self.__dict__ = {**vars(self), **changes}
