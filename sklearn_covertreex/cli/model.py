"""``covertreex build`` and ``covertreex query``: fit, save, load and query an estimator."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..estimators import CoverTreeNeighbors
from .checks import check_output_file, require_backend
from .errors import CliError, one_line
from .io import load_points, parse_delimiter, save_array
from .options import add_runtime_flags, positive_int, runtime_from_args


def _add_input_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--skip-header", action="store_true",
                   help="skip the first line of a .csv input")
    p.add_argument("--delimiter", type=parse_delimiter, default=",",
                   help="column separator of a .csv input: one character, or '\\t' for a "
                        "tab (default: %(default)r)")


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``build`` and ``query`` subcommands."""
    b = subparsers.add_parser(
        "build", help="fit a CoverTreeNeighbors on a .npy/.csv file and save it",
        description="Fit sklearn_covertreex.CoverTreeNeighbors on the rows of INPUT (.npy, or "
                    ".csv of numbers without a header unless --skip-header) and save it "
                    "with joblib.")
    b.add_argument("input", metavar="INPUT", help="points, .npy or .csv")
    b.add_argument("--output", "-o", required=True, metavar="MODEL.joblib",
                   help="where to save the fitted estimator")
    b.add_argument("--k", type=positive_int, default=5,
                   help="the estimator's default n_neighbors (default: %(default)s)")
    _add_input_flags(b)
    add_runtime_flags(b)
    b.set_defaults(handler=run_build)

    q = subparsers.add_parser(
        "query", help="k-NN of the rows of a file with a saved estimator",
        description="Load an estimator saved by 'covertreex build' (a pickle: load only "
                    "files you trust), query the rows of INPUT, save indices (and "
                    "distances) as .npy.")
    q.add_argument("model", metavar="MODEL.joblib", help="estimator saved by 'build'")
    q.add_argument("input", metavar="INPUT", help="queries, .npy or .csv")
    q.add_argument("--k", type=positive_int, default=None,
                   help="neighbours per query (default: the model's n_neighbors)")
    q.add_argument("--output", "-o", required=True, metavar="OUT.npy",
                   help="indices, int64 array (n_queries, k)")
    q.add_argument("--distances", default=None, metavar="DIST.npy",
                   help="also save distances, float64 array (n_queries, k)")
    _add_input_flags(q)
    add_runtime_flags(q, strategies=False)
    q.set_defaults(handler=run_query)


def run_build(args: argparse.Namespace) -> int:
    """Fit and save the estimator; return the exit status."""
    runtime = runtime_from_args(args)
    require_backend(runtime.backend)
    output = check_output_file(args.output, "--output", create_parents=False)
    X = load_points(args.input, skip_header=args.skip_header, delimiter=args.delimiter)
    est = CoverTreeNeighbors(n_neighbors=args.k, backend=runtime.backend,
                             construction=runtime.construction, traversal=runtime.traversal,
                             conflict_graph=runtime.conflict_graph,
                             batch_order=runtime.batch_order, n_jobs=args.n_jobs,
                             random_state=runtime.seed).fit(X)
    import joblib

    try:
        joblib.dump(est, output)
    except OSError as exc:
        raise CliError(f"{output}: cannot write: {one_line(exc)}") from None
    print(f"fitted {X.shape[0]} points in d={X.shape[1]}; saved to {output}")
    return 0


def load_model(path: str | Path) -> CoverTreeNeighbors:
    """Load a fitted :class:`CoverTreeNeighbors` saved by ``build``.

    Raises
    ------
    CliError
        If the file is missing, not a joblib file, or holds something else.
    """
    import joblib

    path = Path(path)
    if path.is_dir():
        raise CliError(f"{path}: is a folder, not a file")
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    try:
        est = joblib.load(path)
    except Exception as exc:  # unpickling raises many types; report any as a bad file
        raise CliError(f"{path}: cannot load a model: {type(exc).__name__}: "
                       f"{one_line(exc)}") from None
    if not isinstance(est, CoverTreeNeighbors) or not hasattr(est, "tree_"):
        raise CliError(f"{path}: expected a fitted CoverTreeNeighbors, got "
                       f"{type(est).__name__}")
    return est


def run_query(args: argparse.Namespace) -> int:
    """Query a saved estimator and save the answer; return the exit status."""
    for flag, value in (("--output", args.output), ("--distances", args.distances)):
        if value is not None:
            if Path(value).suffix.lower() != ".npy":
                raise CliError(f"{value}: output files must end in .npy")
            check_output_file(value, flag, create_parents=False)
    if args.distances is not None and Path(args.distances).resolve() == Path(
            args.output).resolve():
        raise CliError(f"--distances {args.distances}: the same file as --output")
    est = load_model(args.model)
    if args.n_jobs is not None:
        est.set_params(n_jobs=args.n_jobs)
    Q = load_points(args.input, skip_header=args.skip_header, delimiter=args.delimiter)
    dist, ind = est.kneighbors(Q, n_neighbors=args.k)
    save_array(args.output, ind.astype("int64", copy=False))
    if args.distances is not None:
        save_array(args.distances, dist)
    print(f"{ind.shape[0]} queries, k={ind.shape[1]}: indices saved to {args.output}"
          + ("" if args.distances is None else f", distances to {args.distances}"))
    return 0
