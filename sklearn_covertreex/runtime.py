"""Runtime: every knob of the library in one frozen dataclass.

``Runtime.from_env`` is the only place in the package that reads environment
variables; nothing in the package writes them.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
from collections.abc import Mapping
from dataclasses import dataclass

ENV_PREFIX = "COVERTREEX_"

#: Integer fields: any ``numbers.Integral`` but bool is accepted and stored as ``int``.
INT_FIELDS = ("prefix_base", "query_chunk_size", "seed", "n_jobs")


def _is_int(value: object) -> bool:
    """Whether ``value`` is a ``numbers.Integral`` (numpy integers included) but not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


@dataclass(frozen=True)
class Runtime:
    """Configuration of tree building and querying.

    Parameters
    ----------
    backend : {"auto", "numpy", "numba", "jax", "cupy"}
        Kernel backend (a name in :data:`sklearn_covertreex.backends.BACKENDS`).
        ``"auto"`` picks numba when it is importable, else numpy; ``"jax"``
        needs the ``jax`` extra, ``"cupy"`` the ``cupy`` extra and an NVIDIA GPU.
    construction : {"auto", "depth_first", "batch"}
        How ``fit`` builds the tree (and ``insert`` rebuilds it, when it adds
        at least as many rows as the tree holds): ``"depth_first"`` places
        every row in one serial pass of the batch construction of
        Beygelzimer, Kakade and Langford; ``"batch"`` inserts
        prefix-doubling batches in parallel (traverse, conflict graph,
        independent set). ``"auto"``: ``"depth_first"`` where the backend has
        its kernel (numba), else ``"batch"``. Smaller inserts always use the
        batch insertion. Measured builds: doc/benchmarks.md.
    traversal : {"sparse"}
        How batch points descend the tree to find their insertion level:
        ``"sparse"`` runs one candidate-set descent per point (parallel over
        points). (The array-only "dense" traversal is kept as a test
        reference, not a choice: it took 13x the time and 17 GB on W2.)
    conflict_graph : {"segmented", "grid", "tree"}
        How conflicts between batch points are found: ``"segmented"`` hashes
        points into cells of their distances to
        three pivots, ``"grid"`` hashes them into cells of their coordinates
        (Euclidean only), ``"tree"`` searches the tree they are joining
        (any metric). Measured conflict phases (2 threads, 2026-12-02):
        segmented 0.45 / 6-7 / 1.1 s on W1 / W2 / W3, tree 2.5 / 14-15 /
        7.4 s, grid 0.45 / 9.6-10 / 2.1-2.6 s; on the 2-D H3 grid 2.5-2.8 s
        against segmented's 4.5 s.
    mis : {"luby"}
        Maximal independent set algorithm (seeded and deterministic).
    batch_order : {"random", "natural", "hilbert"}
        Order in which points enter the prefix-doubling batches (``"hilbert"``:
        the Hilbert curve read in bit-reversed order, so every prefix is
        spread over the data; coordinates only). ``"natural"`` keeps the
        input order: on sorted or spatially clustered input its batches are
        clustered too, which makes builds far slower (25x at n = 30k on
        curve-sorted rows); prefer ``"random"`` unless the input is shuffled.
    prefix_schedule : {"doubling"}
        ``"doubling"`` inserts batches of size ``prefix_base``, then as many
        points as the tree holds. (Inserting everything as one batch is kept
        as a test reference, not a choice: its conflict graph grows
        quadratically, 126x the time and 2.8 GB at n = 30k.)
    prefix_base : int
        Size of the first batch of the doubling schedule.
    query_chunk_size : int
        Queries are answered in chunks of this many rows (bounds memory).
    seed : int
        Seed of every random choice (batch order, MIS priorities).
    n_jobs : int or None
        Threads used by the numba backend (``None`` or -1: all numba threads).
    diagnostics : bool
        Record per-phase timings and counters on built trees.

    Notes
    -----
    The integer fields (``prefix_base``, ``query_chunk_size``, ``seed``,
    ``n_jobs``) accept any :class:`numbers.Integral` but ``bool`` (numpy
    integers included) and store it as a plain ``int``.
    """

    backend: str = "auto"
    construction: str = "auto"
    traversal: str = "sparse"
    conflict_graph: str = "segmented"
    mis: str = "luby"
    batch_order: str = "random"
    prefix_schedule: str = "doubling"
    prefix_base: int = 64
    query_chunk_size: int = 8192
    seed: int = 0
    n_jobs: int | None = None
    diagnostics: bool = False

    def __post_init__(self) -> None:
        """Store integer fields given as numpy integers as plain ``int``."""
        for name in INT_FIELDS:
            value = getattr(self, name)
            if _is_int(value) and type(value) is not int:
                object.__setattr__(self, name, int(value))

    def validate(self) -> Runtime:
        """Check every field; raise ``ValueError`` naming the valid choices.

        Returns
        -------
        Runtime
            ``self``, so calls can be chained.
        """
        from .algo import registries

        registries.BACKENDS.check(self.backend)
        registries.CONSTRUCTIONS.check(self.construction)
        registries.TRAVERSALS.check(self.traversal)
        registries.CONFLICT_GRAPHS.check(self.conflict_graph)
        registries.MIS.check(self.mis)
        registries.ORDERS.check(self.batch_order)
        registries.PREFIX_SCHEDULES.check(self.prefix_schedule)
        for name in ("prefix_base", "query_chunk_size"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"Runtime.{name} must be a positive int, got {value!r}")
        if not _is_int(self.seed) or self.seed < 0:
            raise ValueError(f"Runtime.seed must be a non-negative int, got {self.seed!r}")
        if self.n_jobs is not None and (not _is_int(self.n_jobs) or self.n_jobs == 0):
            raise ValueError(f"Runtime.n_jobs must be None or a non-zero int, got {self.n_jobs!r}")
        if not isinstance(self.diagnostics, bool):
            raise ValueError(f"Runtime.diagnostics must be a bool, got {self.diagnostics!r}")
        return self

    def replace(self, **changes: object) -> Runtime:
        """Return a copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes).validate()  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Runtime:
        """Build a Runtime from ``COVERTREEX_<FIELD>`` environment variables.

        Parameters
        ----------
        environ : mapping, optional
            Where to read from; defaults to ``os.environ``. Only read, never written.
        **overrides
            Fields that take precedence over the environment.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in dataclasses.fields(cls):
            raw = env.get(ENV_PREFIX + field.name.upper())
            if raw is None:
                continue
            values[field.name] = _parse(field.name, field.type, raw)
        values.update(overrides)
        return cls(**values).validate()  # type: ignore[arg-type]


def _parse(name: str, annotation: object, raw: str) -> object:
    text = str(annotation)
    if text == "bool":
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{ENV_PREFIX}{name.upper()} must be a boolean, got {raw!r}")
    if text.startswith("int"):
        if raw.strip().lower() in ("", "none"):
            return None
        try:
            return int(raw)
        except ValueError:
            raise ValueError(
                f"{ENV_PREFIX}{name.upper()} must be an integer, got {raw!r}"
            ) from None
    return raw.strip()
