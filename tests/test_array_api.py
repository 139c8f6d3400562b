"""Arrays in, arrays out: jax arrays are accepted everywhere; under scikit-learn's
``array_api_dispatch=True`` results come back in the input's namespace."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from conftest import JAX

import sklearn_covertreex._arrays as arrays_mod
from sklearn_covertreex import (
    CoverTree,
    CoverTreeKNeighborsClassifier,
    CoverTreeNeighbors,
    ResidualCoverTreeNeighbors,
    Runtime,
)

pytestmark = pytest.mark.skipif(JAX.marks[0].args[0], reason=JAX.marks[0].kwargs["reason"])


@pytest.fixture
def dispatch(monkeypatch):
    """``array_api_dispatch=True`` as our code reads it (the real switch needs
    ``SCIPY_ARRAY_API=1`` set before scipy is imported)."""
    monkeypatch.setattr(arrays_mod, "get_config", lambda: {"array_api_dispatch": True})


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(200, 3))


def test_jax_arrays_in_numpy_out_without_dispatch():
    import jax.numpy as jnp

    X = _data()
    est = CoverTreeNeighbors(n_neighbors=4, backend="jax").fit(jnp.asarray(X))
    ref = CoverTreeNeighbors(n_neighbors=4).fit(X.astype(np.float32))
    d, i = est.kneighbors(jnp.asarray(X[:10]))
    assert type(d) is np.ndarray and d.dtype == np.float64
    rd, ri = ref.kneighbors(X[:10].astype(np.float32))
    np.testing.assert_array_equal(i, ri)
    np.testing.assert_array_equal(d, rd)


def test_results_in_the_input_namespace_under_dispatch(dispatch):
    import jax
    import jax.numpy as jnp

    X = _data()
    Xj = jnp.asarray(X)
    est = CoverTreeNeighbors(n_neighbors=4, backend="jax").fit(Xj)
    d, i = est.kneighbors(Xj[:5])
    assert isinstance(d, jax.Array) and isinstance(i, jax.Array)
    assert d.dtype == jnp.float64 and i.dtype == jnp.int64  # float64 made in a scoped switch
    assert not jax.config.jax_enable_x64
    assert type(est.kneighbors(np.asarray(Xj[:5]))[0]) is np.ndarray  # numpy in, numpy out
    tree = CoverTree(Runtime(backend="jax")).fit(Xj)
    assert isinstance(tree.knn(Xj[:3], 2)[1], jax.Array)
    assert isinstance(tree.radius(Xj[:3], 0.5)[0], jax.Array)
    y = (X[:, 0] > 0).astype(np.int64)
    clf = CoverTreeKNeighborsClassifier(backend="jax").fit(Xj, y)
    assert isinstance(clf.predict(Xj[:4]), jax.Array)
    res = ResidualCoverTreeNeighbors(backend="jax", inducing_points=8, random_state=0).fit(Xj)
    assert isinstance(res.kneighbors(Xj[:3])[0], jax.Array)


def test_fitted_estimator_pickles_to_host_arrays_and_loads_on_any_backend():
    import jax.numpy as jnp

    X = _data()
    est = CoverTreeNeighbors(n_neighbors=3, backend="jax").fit(jnp.asarray(X))
    back = pickle.loads(pickle.dumps(est))
    arrays = back.tree_.arrays
    for name in ("points", "level", "parent", "radius", "children", "ids"):
        assert type(getattr(arrays, name)) is np.ndarray
    ref = est.kneighbors(X[:7])
    np.testing.assert_array_equal(back.kneighbors(X[:7])[1], ref[1])
    for backend in ("numba", "numpy"):
        d, i = CoverTree(Runtime(backend=backend), _arrays=arrays).knn(X[:7], 3)
        np.testing.assert_array_equal(i, ref[1])
        np.testing.assert_array_equal(d, ref[0])


def test_real_array_api_dispatch_in_a_child_process():
    """The real switch (``SCIPY_ARRAY_API=1`` set for a child process before scipy loads)."""
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np, sklearn, jax, jax.numpy as jnp\n"
        "from sklearn_covertreex import CoverTreeNeighbors\n"
        "X = jnp.asarray(np.random.default_rng(0).normal(size=(120, 3)))\n"
        "with sklearn.config_context(array_api_dispatch=True):\n"
        "    d, i = CoverTreeNeighbors(n_neighbors=3, backend='jax').fit(X).kneighbors(X[:4])\n"
        "assert isinstance(d, jax.Array) and d.dtype == jnp.float64, type(d)\n"
        "assert not jax.config.jax_enable_x64\n"
        "print('ok')\n"
    )
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]
