"""The ``covertreex`` command line (also ``python -m sklearn_covertreex``).

Subcommands: ``demo``, ``build``, ``query``, ``bench euclidean|scaling|residual``. Options are
parsed into a :class:`~sklearn_covertreex.Runtime`; the environment is
never read or written here.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import USER_ERRORS, CliError, print_error
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
        2 on a usage error, a bad path, a malformed file, an unknown
        strategy, a missing optional extra or a run too large for memory
        (reported as one line ``covertreex: error: ...`` on stderr; the
        checks run before any work, see :mod:`.checks`).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except CliError as exc:  # usage errors
        return print_error(exc)
    try:
        return int(args.handler(args))
    except USER_ERRORS as exc:
        return print_error(exc)
