"""Shared parameters are declared once; every query validates its X once; one n_jobs resolver."""

from __future__ import annotations

import doctest
import importlib
import re
from pathlib import Path

import numpy as np
import pytest

import sklearn_covertreex.estimators._common as common
from sklearn_covertreex import (
    CoverTreeKNeighborsClassifier,
    CoverTreeKNeighborsRegressor,
    CoverTreeKNeighborsTransformer,
    CoverTreeNeighbors,
    ResidualCoverTreeNeighbors,
)
from sklearn_covertreex.estimators._params import SHARED_PARAMS

CLASSES = [CoverTreeNeighbors, CoverTreeKNeighborsClassifier, CoverTreeKNeighborsRegressor,
           CoverTreeKNeighborsTransformer, ResidualCoverTreeNeighbors]
EUCLIDEAN = CLASSES[:4]
#: Parameters the residual estimator documents itself (other choices or meaning).
RESIDUAL_OWN = {"backend", "traversal", "conflict_graph", "batch_order", "random_state"}

rng = np.random.default_rng(11)
X = rng.normal(size=(60, 3))
Q = rng.normal(size=(7, 3))
Y = rng.integers(0, 3, 60)


def _make(cls, **params):
    if cls is ResidualCoverTreeNeighbors:
        params.setdefault("inducing_points", 8)
    return cls(**params)


def _fit_args(cls, X_=X, y=Y):
    supervised = cls in (CoverTreeKNeighborsClassifier, CoverTreeKNeighborsRegressor)
    return (X_, y) if supervised else (X_,)


def _documented(cls) -> dict[str, str]:
    """name -> its entry (header and description) in the Parameters section."""
    section = cls.__doc__.split("    Parameters\n    ----------\n")[1].split("\n\n")[0]
    entries: dict[str, str] = {}
    for block in re.split(r"\n(?=    \S)", section):
        names = block.split(" : ")[0].strip()
        for name in names.split(", "):
            entries[name] = block
    return entries


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_parameter_has_one_check_and_a_doc_entry(cls):
    names = cls._get_param_names()
    assert set(names) <= set(cls._parameter_checks), "a parameter without a check"
    assert set(_documented(cls)) == set(names)
    assert "%(" not in cls.__doc__


@pytest.mark.parametrize("name", sorted(SHARED_PARAMS))
def test_shared_parameters_read_the_same_everywhere(name):
    """Each shared entry is the one text, with each class's own default."""
    import inspect

    body = " ".join(SHARED_PARAMS[name].doc.split())
    owners = [c for c in CLASSES if name in c._get_param_names()
              and not (c is ResidualCoverTreeNeighbors and name in RESIDUAL_OWN)]
    assert owners
    for cls in owners:
        entry = _documented(cls)[name]
        default = inspect.signature(cls.__init__).parameters[name].default
        shown = f'"{default}"' if isinstance(default, str) else repr(default)
        header, text = entry.split("\n", 1)
        assert header.strip() == f"{name} : {SHARED_PARAMS[name].type}, default={shown}"
        assert " ".join(text.split()) == body
        assert cls._parameter_checks[name] is SHARED_PARAMS[name].check or \
            cls is ResidualCoverTreeNeighbors


class _BadType:
    def __repr__(self):
        return "BadType()"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_each_bad_parameter_is_named_before_anything_changes(cls):
    """Like scikit-learn's check_param_validation: fit and partial_fit name the parameter."""
    for name in cls._get_param_names():
        est = _make(cls)
        est.set_params(**{name: _BadType()})
        before = dict(vars(est))
        with pytest.raises((TypeError, ValueError), match=name):
            est.fit(*_fit_args(cls))
        assert vars(est) == before, f"fit changed attributes with a bad {name}"
        if hasattr(est, "partial_fit"):
            fitted = _make(cls).fit(*_fit_args(cls))
            fitted.set_params(**{name: _BadType()})
            state = dict(vars(fitted))
            with pytest.raises((TypeError, ValueError), match=name):
                fitted.partial_fit(*_fit_args(cls, X[:3], Y[:3]))
            assert vars(fitted) == state


class _CountingValidate:
    def __init__(self, real):
        self.real = real
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.real(*args, **kwargs)


def _queries(est):
    """(method name, arguments, validations expected) of every public method taking X."""
    calls = []
    for name in ("kneighbors", "kneighbors_graph", "radius_neighbors", "radius_neighbors_graph"):
        if hasattr(est, name):
            calls += [(name, (Q,), 1), (name, (), 0)]
    for name in ("predict", "predict_proba", "transform"):
        if hasattr(est, name):
            calls.append((name, (Q,), 1))
    if hasattr(est, "score"):
        calls.append(("score", (X[:7], Y[:7]), 1))
    if hasattr(est, "vecchia_neighbors"):
        calls.append(("vecchia_neighbors", (), 0))
    return calls


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_each_call_validates_its_input_once(cls, monkeypatch):
    counter = _CountingValidate(common.validate_data)
    monkeypatch.setattr(common, "validate_data", counter)
    est = _make(cls)
    est.fit(*_fit_args(cls))
    assert counter.calls == 1, "fit"
    if hasattr(est, "partial_fit"):
        counter.calls = 0
        est.partial_fit(*_fit_args(cls, X[:4], Y[:4]))
        assert counter.calls == 1, "partial_fit"
    if hasattr(est, "fit_transform"):
        counter.calls = 0
        est.fit_transform(X)
        assert counter.calls == 1, "fit_transform"
    for name, args, expected in _queries(est):
        counter.calls = 0
        getattr(est, name)(*args)
        assert counter.calls == expected, f"{name} with {len(args)} argument(s)"


def test_one_n_jobs_resolver():
    """``_common.query_threads`` is the only place estimators turn n_jobs into threads."""
    sources = Path(common.__file__).parent.glob("*.py")
    users = [p.name for p in sources if "effective_n_jobs(" in p.read_text()
             or "def query_threads" in p.read_text()]
    assert users == ["_common.py"]
    with pytest.raises(ValueError, match="n_jobs"):
        common.query_threads(0)
    for cls in CLASSES:
        est = _make(cls).fit(*_fit_args(cls))
        est.set_params(n_jobs=0)
        with pytest.raises(ValueError, match="n_jobs"):
            est.kneighbors(Q)
        est.set_params(n_jobs=1)
        assert est.kneighbors(Q)[0].shape == (7, 5)


@pytest.mark.parametrize("module", ["neighbors", "classification", "regression", "transformer",
                                    "residual"])
def test_docstring_examples(module):
    mod = importlib.import_module(f"sklearn_covertreex.estimators.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
