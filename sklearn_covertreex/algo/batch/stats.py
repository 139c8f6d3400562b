"""Per-phase timings and counters of one build or insertion (the trees' diagnostics)."""

from __future__ import annotations

import time
from typing import Any


class BuildStats:
    """Timings (seconds per phase) and counters, filled in as a build runs."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {
            "construction": None, "batches": 0, "rounds": 0, "duplicates": 0,
            "conflict_edges": 0, "max_conflict_degree": 0, "mis_rounds": 0, "searched": 0,
            "seconds": {"order": 0.0, "construct": 0.0, "traverse": 0.0,
                        "conflict": 0.0, "mis": 0.0, "attach": 0.0, "relevel": 0.0,
                        "finalize": 0.0},
        }

    def add_time(self, phase: str, t0: float) -> float:
        """Add the time since ``t0`` to ``phase``; return now (the next phase's start)."""
        now = time.perf_counter()
        self.data["seconds"][phase] += now - t0
        return now
