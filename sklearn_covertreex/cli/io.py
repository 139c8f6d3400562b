"""Reading point files (``.npy``, ``.csv``) and writing result arrays."""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np

from .errors import CliError, one_line

#: File suffixes :func:`load_points` reads.
SUFFIXES = (".npy", ".csv")

#: How a shell user types a separator that is hard to pass literally -> the character.
DELIMITER_ESCAPES: Mapping[str, str] = MappingProxyType({"\\t": "\t", "tab": "\t"})

#: Characters that cannot separate numbers (they occur inside them, or end lines).
_BAD_DELIMITERS = frozenset("0123456789.+-eE\n\r")


def parse_delimiter(text: str) -> str:
    """argparse type of ``--delimiter``: one character, or an escape such as ``\\t``.

    Parameters
    ----------
    text : str
        ``\\t`` (backslash and t, as typed on a shell) or ``tab`` for a tab,
        or one character.

    Returns
    -------
    str
        The single separator character.

    Raises
    ------
    argparse.ArgumentTypeError
        If the result is not one character or cannot separate numbers.
    """
    value = DELIMITER_ESCAPES.get(text, text)
    if len(value) != 1:
        raise argparse.ArgumentTypeError(
            f"expected one character (or {', '.join(DELIMITER_ESCAPES)}), got {text!r}")
    if value in _BAD_DELIMITERS:
        raise argparse.ArgumentTypeError(f"{text!r} cannot separate numbers")
    return value


def load_points(path: str | Path, *, skip_header: bool = False,
                delimiter: str = ",") -> np.ndarray:
    """Read a 2-D array of finite real numbers from a ``.npy`` or ``.csv`` file.

    Parameters
    ----------
    path : str or Path
        The file. A ``.csv`` file holds numbers only (one row per line).
    skip_header : bool, default=False
        Skip the first line of a ``.csv`` file.
    delimiter : str, default=","
        Column separator of a ``.csv`` file (one character; see
        :func:`parse_delimiter`).

    Returns
    -------
    ndarray of shape (n, d), float64
        A 1-D ``.npy`` array or single-column csv gives ``d = 1``.

    Raises
    ------
    CliError
        If the file is missing or unreadable, has another suffix, is not
        numeric (an ``.npz`` archive saved as ``.npy`` included), is empty,
        is not 1-D or 2-D, or holds NaN or infinity.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if path.is_dir():
        raise CliError(f"{path}: is a folder, not a file")
    if suffix not in SUFFIXES:
        raise CliError(f"{path}: unsupported file type {suffix or '(none)'!r}; "
                       f"expected one of {', '.join(SUFFIXES)}")
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    try:
        if suffix == ".npy":
            data = np.load(path, allow_pickle=False)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
                data = np.loadtxt(path, delimiter=delimiter, skiprows=int(skip_header),
                                  dtype=np.float64, ndmin=2)
    except (ValueError, TypeError, OSError, EOFError) as exc:
        raise CliError(f"{path}: cannot read numbers: {one_line(exc)}") from None
    if not isinstance(data, np.ndarray):  # np.load opens a zip (.npz) whatever the suffix
        names = list(getattr(data, "files", []))
        close = getattr(data, "close", None)
        if close is not None:
            close()
        raise CliError(f"{path}: holds an .npz archive (arrays {names}), not one array; "
                       "save the points with numpy.save")
    return _check_points(data, path)


def _check_points(data: np.ndarray, path: Path) -> np.ndarray:
    if data.dtype.kind not in "biuf":
        raise CliError(f"{path}: expected real numbers, got dtype {data.dtype}")
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2:
        raise CliError(f"{path}: expected a 2-D array (n, d), got shape {data.shape}")
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise CliError(f"{path}: no data (shape {data.shape})")
    data = np.ascontiguousarray(data, dtype=np.float64)
    bad = ~np.isfinite(data)
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise CliError(f"{path}: NaN or infinity at row {row}, column {col} "
                       f"({int(bad.sum())} such values)")
    return data


def save_array(path: str | Path, array: np.ndarray) -> Path:
    """Save ``array`` as ``.npy`` at exactly ``path``.

    Parameters
    ----------
    path : str or Path
        Must end in ``.npy`` (``np.save`` would otherwise append it); the
        parent folder must exist.
    array : ndarray

    Returns
    -------
    Path

    Raises
    ------
    CliError
        On a wrong suffix, a missing parent folder or a write error.
    """
    path = Path(path)
    if path.suffix.lower() != ".npy":
        raise CliError(f"{path}: output files must end in .npy")
    if not path.parent.is_dir():
        raise CliError(f"{path}: folder {path.parent} does not exist")
    try:
        np.save(path, array, allow_pickle=False)
    except OSError as exc:
        raise CliError(f"{path}: cannot write: {one_line(exc)}") from None
    return path
