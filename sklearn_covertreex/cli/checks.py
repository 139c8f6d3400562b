"""Checks every subcommand runs before any work: output paths, memory, optional extras.

A run that would fail at its end (an output folder that cannot be created, a
figure without matplotlib) or in the middle (arrays larger than the machine's
memory, a backend whose extra is not installed) fails here instead, with one
:class:`~.errors.CliError` line, before any data is generated or read.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from .errors import CliError, one_line

_GIB = 2.0**30


def check_output_file(path: str | Path, flag: str, *, create_parents: bool = True) -> Path:
    """Check that ``path`` can be written as a file (the file itself is not created).

    Parameters
    ----------
    path : str or Path
        The file a run will write (or append to).
    flag : str
        The option that named it, for the message (``"--out"``).
    create_parents : bool, default=True
        The writer creates missing parent folders (JSONL records, figures):
        they are created now, so a folder that cannot be made fails here.
        Else the parent folder must exist already.

    Returns
    -------
    Path

    Raises
    ------
    CliError
        If ``path`` is a folder, an existing file that cannot be written, or
        lies under a path that is not a folder, a missing folder (when
        ``create_parents`` is false), a folder that cannot be created, or one
        that cannot be written.
    """
    path = Path(path)
    if str(path) == "" or path.name in ("", ".", ".."):
        raise CliError(f"{flag} {str(path)!r}: expected a file path")
    if path.is_dir():
        raise CliError(f"{flag} {path}: is a folder; expected a file path")
    if path.exists() and not os.access(path, os.W_OK):
        raise CliError(f"{flag} {path}: file is not writable")
    parent = path.parent
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise CliError(f"{flag} {path}: {existing} is not a folder")
    if not parent.is_dir():
        if not create_parents:
            raise CliError(f"{flag} {path}: folder {parent} does not exist")
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CliError(f"{flag} {path}: cannot create folder {parent}: "
                           f"{one_line(exc)}") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CliError(f"{flag} {path}: folder {parent} is not writable")
    return path


def physical_memory_bytes() -> int | None:
    """The machine's physical memory in bytes (``None`` where the OS does not say).

    Returns
    -------
    int or None
        ``SC_PHYS_PAGES * SC_PAGE_SIZE``, capped by this process's address
        space limit (``RLIMIT_AS``) when one is set.
    """
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    if total <= 0:
        return None
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    except (ImportError, OSError, ValueError):
        return int(total)
    return int(total if soft in (resource.RLIM_INFINITY, -1) or soft <= 0 else min(total, soft))


def check_memory(needed_bytes: float, what: str) -> None:
    """Fail when a run needs more memory than the machine has.

    Parameters
    ----------
    needed_bytes : float
        Estimate of the run's largest arrays (a lower bound of its peak).
    what : str
        The run's sizes, for the message (``"n=1000000000000, d=3"``).

    Raises
    ------
    CliError
        If the estimate is not finite or exceeds :func:`physical_memory_bytes`.
    """
    if not math.isfinite(needed_bytes):
        raise CliError(f"{what}: the sizes are too large to run")
    available = physical_memory_bytes()
    if available is not None and needed_bytes > available:
        raise CliError(f"{what} needs at least {needed_bytes / _GIB:,.1f} GiB of memory; "
                       f"this machine has {available / _GIB:,.1f} GiB")


def knn_bytes(n: int, d: int, n_queries: int, k: int, methods: int) -> float:
    """A lower bound of the memory of a k-NN comparison run (:mod:`.compare`).

    Parameters
    ----------
    n, d : int
        Indexed points and their dimension.
    n_queries : int
        Separate queries (0 for all-points k-NN on the indexed points).
    k : int
    methods : int
        Methods whose answers are kept side by side.

    Returns
    -------
    float
        Bytes: the points and queries, one copy of the points per index
        being built, ~128 bytes of index per point, and every method's
        ``(rows, k + 1)`` float64 distances and int64 ids.
    """
    rows = n if n_queries == 0 else n_queries
    return 8.0 * (3.0 * n * d + n_queries * d) + 128.0 * n + 16.0 * rows * (k + 1) * (methods + 1)


def require_module(module: str, extra: str, purpose: str, hint: str = "") -> None:
    """Fail unless ``module`` imports (an optional dependency).

    Parameters
    ----------
    module : str
        Module name (``"matplotlib"``).
    extra : str
        The package extra that installs it (``"bench"``).
    purpose : str
        What needs it, for the message.
    hint : str, default=""
        Appended to the message (another way out).

    Raises
    ------
    CliError
        Naming ``pip install 'sklearn_covertreex[extra]'``.
    """
    from ..backends import import_extra

    try:
        import_extra(module, extra, purpose)
    except ImportError as exc:
        raise CliError(one_line(exc) + hint) from None


def require_backend(name: str) -> None:
    """Fail unless the kernel backend ``name`` can be imported.

    Parameters
    ----------
    name : str
        A registered backend name (already validated by ``Runtime``).

    Raises
    ------
    CliError
        Naming the extra to install when the backend's dependency is missing.
    """
    from ..backends import get_backend

    try:
        get_backend(name)
    except ImportError as exc:
        raise CliError(one_line(exc)) from None
