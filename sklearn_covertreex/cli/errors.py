"""The error type of the command line: printed as one line, exit status 2."""

from __future__ import annotations


class CliError(Exception):
    """A user error (bad path, malformed file, bad option value) reported in one line."""


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
