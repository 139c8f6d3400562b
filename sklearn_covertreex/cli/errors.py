"""The error type of the command line: printed as one line, exit status 2."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

#: Exit status of every error line.
ERROR_STATUS = 2


class CliError(Exception):
    """A user error (bad path, malformed file, bad option value) reported in one line."""


#: Exceptions reported as one ``covertreex: error:`` line (a bad value, path or
#: file; a run too large for memory) instead of a traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (CliError, ValueError, OSError, MemoryError)


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on a single line (inner newlines become ``"; "``).

    Parameters
    ----------
    exc : BaseException

    Returns
    -------
    str
    """
    parts = [part.strip() for part in str(exc).splitlines() if part.strip()]
    return "; ".join(parts) or type(exc).__name__


def print_error(message: str | BaseException) -> int:
    """Print ``covertreex: error: <message>`` on stderr; return :data:`ERROR_STATUS`.

    Parameters
    ----------
    message : str or BaseException

    Returns
    -------
    int
    """
    text = one_line(message) if isinstance(message, BaseException) else message
    print(f"covertreex: error: {text}", file=sys.stderr, flush=True)
    return ERROR_STATUS


class ArgumentParser(argparse.ArgumentParser):
    """An ``argparse`` parser whose usage errors raise :class:`CliError`.

    The message names the subcommand and points to its ``--help``, so a usage
    error is one line like every other error.
    """

    def error(self, message: str) -> NoReturn:
        """Raise :class:`CliError` instead of printing the usage and exiting."""
        raise CliError(f"{self.prog}: {message} (see '{self.prog} --help')")
