"""Runtime flags shared by the subcommands, and their conversion to a ``Runtime``."""

from __future__ import annotations

import argparse
import os

from ..algo.registries import CONFLICT_GRAPHS, CONSTRUCTIONS, ORDERS, TRAVERSALS
from ..backends import BACKENDS
from ..runtime import Runtime


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite real number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


def add_runtime_flags(parser: argparse.ArgumentParser, *, strategies: bool = True) -> None:
    """Add ``--backend --construction --traversal --conflict-graph --batch-order --seed --n-jobs``.

    Strategy names are checked by :class:`Runtime` (not by argparse), so an
    unknown name is reported as one error line listing the valid choices.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    strategies : bool, default=True
        Also add the strategy and seed flags (else only ``--n-jobs``).
    """
    group = parser.add_argument_group("runtime")
    if strategies:
        defaults = Runtime()
        group.add_argument("--backend", default=defaults.backend,
                           help="kernel backend: " + ", ".join(BACKENDS.names())
                                + " (default: %(default)s)")
        group.add_argument("--construction", default=defaults.construction,
                           help=f"how fit builds the tree: {', '.join(CONSTRUCTIONS.names())} "
                                "(default: %(default)s)")
        group.add_argument("--traversal", default=defaults.traversal,
                           help=f"insertion traversal: {', '.join(TRAVERSALS.names())} "
                                "(default: %(default)s)")
        group.add_argument("--conflict-graph", default=defaults.conflict_graph,
                           help=f"conflict graph: {', '.join(CONFLICT_GRAPHS.names())} "
                                "(default: %(default)s)")
        group.add_argument("--batch-order", default=defaults.batch_order,
                           help=f"batch order: {', '.join(ORDERS.names())} "
                                "(default: %(default)s)")
        group.add_argument("--seed", type=int, default=defaults.seed,
                           help="seed of the data and of the tree's random choices "
                                "(default: %(default)s)")
    group.add_argument("--n-jobs", type=int, default=None,
                       help="threads for every method (default: all cores; -1: all cores)")


def resolve_threads(n_jobs: int | None) -> int:
    """Thread count for ``--n-jobs`` (``None``/-1: every core; -2: all but one ...).

    Parameters
    ----------
    n_jobs : int or None

    Returns
    -------
    int
        At least 1 and at most numba's thread limit.

    Raises
    ------
    ValueError
        If ``n_jobs`` is 0.
    """
    import numba

    if n_jobs == 0:
        raise ValueError("--n-jobs must be a non-zero integer, got 0")
    cores = os.cpu_count() or 1
    if n_jobs is None:
        n_jobs = -1
    wanted = cores + 1 + n_jobs if n_jobs < 0 else n_jobs
    return max(1, min(wanted, numba.config.NUMBA_NUM_THREADS))


def runtime_from_args(args: argparse.Namespace, *, diagnostics: bool = False) -> Runtime:
    """The validated :class:`Runtime` described by parsed runtime flags.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags of :func:`add_runtime_flags` (with ``strategies=True``).
    diagnostics : bool, default=False
        Record build timings and counters.

    Returns
    -------
    Runtime
        With ``n_jobs`` resolved to a thread count.

    Raises
    ------
    ValueError
        Naming the valid choices, for an unknown strategy or bad value.
    """
    return Runtime(backend=args.backend, construction=args.construction,
                   traversal=args.traversal,
                   conflict_graph=args.conflict_graph, batch_order=args.batch_order,
                   seed=args.seed, n_jobs=resolve_threads(args.n_jobs),
                   diagnostics=diagnostics).validate()
