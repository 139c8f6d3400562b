"""The JSONL writer: the only code in the package that writes telemetry files."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np

from .schemas import validate_record


def default_artifacts_dir() -> Path:
    """Where benchmark records go by default: ``artifacts/benchmarks``.

    Returns
    -------
    Path
        A path relative to the current directory (``artifacts/`` is git-ignored).
    """
    return Path("artifacts/benchmarks")


def to_jsonable(value: Any) -> Any:
    """Turn numpy scalars and arrays (also nested in dicts and lists) into Python values.

    Parameters
    ----------
    value : object

    Returns
    -------
    object
        The same structure with ``np.generic`` as Python scalars, arrays as
        lists and tuples as lists.
    """
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


class JsonlWriter:
    """Append validated records to a JSON Lines file, one object per line.

    Parameters
    ----------
    path : str or Path
        The file; its parent folders are created on open. Existing content is
        kept (records are appended).

    Examples
    --------
    >>> with JsonlWriter(path) as out:          # doctest: +SKIP
    ...     out.write(record)
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._handle: IO[str] | None = None
        self.n_written = 0

    def __enter__(self) -> JsonlWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("a", encoding="utf-8")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def write(self, record: Mapping[str, Any]) -> None:
        """Validate one record and append it as a line.

        Parameters
        ----------
        record : mapping
            A record of one of the schemas in :data:`~.schemas.SCHEMAS`
            (numpy scalars are converted first).

        Raises
        ------
        ValueError
            If the record does not validate (nothing is written).
        RuntimeError
            If the writer is not open.
        """
        if self._handle is None:
            raise RuntimeError("JsonlWriter is not open; use it as a context manager")
        clean = validate_record(to_jsonable(record))
        line = json.dumps(clean, allow_nan=False, sort_keys=False)
        self._handle.write(line + "\n")
        self._handle.flush()
        self.n_written += 1

    def write_all(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Write several records in order (see :meth:`write`)."""
        for record in records:
            self.write(record)


def read_jsonl(path: str | Path, *, validate: bool = True) -> list[dict[str, Any]]:
    """Read the records of a JSON Lines file.

    Parameters
    ----------
    path : str or Path
    validate : bool, default=True
        Check each record with :func:`~.schemas.validate_record`.

    Returns
    -------
    list of dict
    """
    records = []
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                records.append(validate_record(record) if validate else record)
    return records
