"""A tiny name -> object registry used for every strategy and backend choice."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Map names to strategy objects (or to zero-argument loaders of them).

    Parameters
    ----------
    kind : str
        What the registry holds, used in error messages (e.g. ``"traversal"``).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str, obj: T) -> T:
        """Register ``obj`` under ``name`` and return it."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = obj
        return obj

    def names(self) -> tuple[str, ...]:
        """Registered names, in registration order."""
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def check(self, name: object) -> None:
        """Raise ``ValueError`` naming the valid choices if ``name`` is unknown."""
        if not isinstance(name, str) or name not in self._entries:
            raise ValueError(
                f"Unknown {self.kind} {name!r}; valid choices are: "
                + ", ".join(repr(n) for n in self._entries)
            )

    def get(self, name: str) -> T:
        """Return the object registered under ``name``."""
        self.check(name)
        return self._entries[name]

