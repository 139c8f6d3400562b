import numpy as np
import pytest

from sklearn_covertreex import Runtime


def test_defaults_validate():
    rt = Runtime().validate()
    assert rt.backend == "auto"


@pytest.mark.parametrize(
    "field, value, choices",
    [
        ("backend", "cuda", "numba"),
        ("traversal", "bfs", "sparse"),
        ("conflict_graph", "kd", "segmented"),
        ("mis", "greedy", "luby"),
        ("batch_order", "morton", "hilbert"),
        ("prefix_schedule", "halving", "doubling"),
    ],
)
def test_unknown_strategy_names_valid_choices(field, value, choices):
    with pytest.raises(ValueError, match=choices):
        Runtime(**{field: value}).validate()


@pytest.mark.parametrize(
    "field, value",
    [("prefix_base", 0), ("query_chunk_size", -1), ("seed", -3), ("seed", 1.5), ("n_jobs", 0),
     ("diagnostics", "yes")],
)
def test_bad_numbers_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        Runtime(**{field: value}).validate()


def test_from_env_reads_only_given_mapping():
    env = {"COVERTREEX_BACKEND": "numpy", "COVERTREEX_SEED": "7",
           "COVERTREEX_DIAGNOSTICS": "true", "COVERTREEX_N_JOBS": "none", "OTHER": "x"}
    rt = Runtime.from_env(env)
    assert (rt.backend, rt.seed, rt.diagnostics, rt.n_jobs) == ("numpy", 7, True, None)


def test_from_env_overrides_and_errors():
    assert Runtime.from_env({"COVERTREEX_SEED": "7"}, seed=3).seed == 3
    with pytest.raises(ValueError, match="COVERTREEX_SEED"):
        Runtime.from_env({"COVERTREEX_SEED": "seven"})
    with pytest.raises(ValueError, match="traversal"):
        Runtime.from_env({"COVERTREEX_TRAVERSAL": "nope"})


def test_runtime_is_frozen():
    rt = Runtime()
    with pytest.raises(AttributeError):
        rt.seed = 4  # type: ignore[misc]
    assert rt.replace(seed=4).seed == 4


def test_package_never_writes_environ():
    import pathlib
    import re

    import sklearn_covertreex

    root = pathlib.Path(sklearn_covertreex.__file__).parent
    pattern = re.compile(r"os\.environ(\[[^]]*\] *=[^=]|\.update|\.setdefault|\.pop)|os\.putenv")
    offenders = [p for p in root.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


@pytest.mark.parametrize("field, value", [
    ("seed", np.int64(3)), ("seed", np.uint8(0)), ("prefix_base", np.int32(8)),
    ("query_chunk_size", np.int16(100)), ("n_jobs", np.int64(2)), ("n_jobs", np.int8(-1)),
])
def test_numpy_integers_are_accepted_and_stored_as_int(field, value):
    rt = Runtime(**{field: value}).validate()
    stored = getattr(rt, field)
    assert type(stored) is int and stored == int(value)
    assert rt == Runtime(**{field: int(value)})
    assert hash(rt) == hash(Runtime(**{field: int(value)}))
    assert type(getattr(rt.replace(**{field: value}), field)) is int


@pytest.mark.parametrize("field, value", [
    ("seed", True), ("prefix_base", False), ("n_jobs", True), ("seed", np.float64(3.0)),
    ("seed", np.int64(-1)), ("prefix_base", np.int32(0)), ("n_jobs", np.int64(0)),
    ("query_chunk_size", np.bool_(True)), ("seed", "3"),
])
def test_bools_floats_and_bad_numpy_integers_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        Runtime(**{field: value}).validate()


def test_numpy_seed_reaches_a_build():
    from sklearn_covertreex import CoverTree

    X = np.random.default_rng(0).standard_normal((50, 2))
    a = CoverTree(Runtime(backend="numpy", seed=np.int64(3), n_jobs=np.int64(1))).fit(X)
    b = CoverTree(Runtime(backend="numpy", seed=3, n_jobs=1)).fit(X)
    np.testing.assert_array_equal(a.knn(X, 3)[1], b.knn(X, 3)[1])
