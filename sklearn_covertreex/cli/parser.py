"""The argument parser of ``covertreex``."""

from __future__ import annotations

import argparse

from . import bench, demo, model
from .errors import ArgumentParser


def build_parser() -> argparse.ArgumentParser:
    """The ``covertreex`` parser with its subcommands.

    Returns
    -------
    argparse.ArgumentParser
        Each subcommand sets ``handler``, a function ``(args) -> int``; usage
        errors raise :class:`~.errors.CliError` (subparsers share the class).
    """
    from .. import __version__

    parser = ArgumentParser(
        prog="covertreex",
        description="Exact k-NN on a parallel compressed cover tree: demo, build and query "
                    "models, benchmarks.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo.add_parser(sub)
    model.add_parsers(sub)
    bench.add_parser(sub)
    return parser
