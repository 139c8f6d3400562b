"""The ``covertreex`` command line (also ``python -m sklearn_covertreex``).

Subcommands: ``demo``, ``build``, ``query``, ``bench euclidean``. Options are
parsed into a :class:`~sklearn_covertreex.Runtime`; the environment is
never read or written here.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .errors import CliError, one_line
from .parser import build_parser

__all__ = ["CliError", "build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 1 when a benchmark answer was not exact,
        2 on a usage error, a bad path, a malformed file or an unknown
        strategy (reported as one line ``covertreex: error: ...`` on stderr).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse usage errors, --help, --version
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        return int(args.handler(args))
    except (CliError, ValueError, OSError) as exc:
        print(f"covertreex: error: {one_line(exc)}", file=sys.stderr)
        return 2
